#include "seqrec/model/sasrec_body.h"

namespace seqrec::model {

namespace {

// The reference implementation's epsilon.
torch::nn::LayerNorm layer_norm(int64_t d_model) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model}).eps(1e-8));
}

}  // namespace

SasrecBlockImpl::SasrecBlockImpl(const SasrecOptions& o) {
  attention_norm_ = register_module("attention_norm", layer_norm(o.d_model));
  attention_ = register_module("attention", MultiHeadAttention(o.d_model, o.heads, o.dropout));
  feed_forward_norm_ = register_module("feed_forward_norm", layer_norm(o.d_model));
  feed_forward_ = register_module("feed_forward", FeedForward(o.d_model, o.d_ff, Activation::Relu, o.dropout));
}

torch::Tensor SasrecBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& allowed) {
  const torch::Tensor queries = attention_norm_(x);
  const torch::Tensor attended = feed_forward_norm_(queries + attention_(queries, x, allowed));
  return attended + feed_forward_(attended);
}

SasrecBodyImpl::SasrecBodyImpl(const SasrecOptions& o) {
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.layers; ++i) blocks_->push_back(SasrecBlock(o));
  final_norm_ = register_module("final_norm", layer_norm(o.d_model));
}

torch::Tensor SasrecBodyImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const torch::Tensor allowed = attention_mask(mask, /*causal=*/true);
  const torch::Tensor keep = mask.unsqueeze(-1);
  torch::Tensor h = x;
  for (const auto& block : *blocks_) h = block->as<SasrecBlock>()->forward(h, allowed) * keep;
  return final_norm_(h) * keep;
}

}  // namespace seqrec::model
