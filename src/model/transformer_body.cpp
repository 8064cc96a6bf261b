#include "seqrec/model/transformer_body.h"

namespace seqrec::model {

TransformerBlockImpl::TransformerBlockImpl(const TransformerOptions& o) : norm_first_(o.norm_first) {
  attention_norm_ = register_module("attention_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.d_model})));
  attention_ = register_module("attention", MultiHeadAttention(o.d_model, o.heads, o.dropout));
  dropout_ = register_module("dropout", Dropout(o.dropout));
  feed_forward_norm_ =
      register_module("feed_forward_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.d_model})));
  feed_forward_ = register_module("feed_forward", FeedForward(o.d_model, o.d_ff, o.activation, o.dropout));
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& allowed) {
  return forward(x, x.size(1), allowed, {});
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x, int64_t keys, const torch::Tensor& allowed,
                                            const torch::Tensor& bias, int64_t first) {
  const torch::Tensor rows_allowed = allowed.slice(2, first);
  const torch::Tensor rows_bias = bias.defined() ? bias.slice(2, first) : bias;
  if (norm_first_) {
    const torch::Tensor normed = attention_norm_(x);
    const torch::Tensor h =
        x.slice(1, first) + dropout_(attention_(normed.slice(1, first), normed.slice(1, 0, keys), rows_allowed, rows_bias));
    return h + feed_forward_(feed_forward_norm_(h));
  }
  const torch::Tensor queries = x.slice(1, first);
  const torch::Tensor h = attention_norm_(queries + dropout_(attention_(queries, x.slice(1, 0, keys), rows_allowed, rows_bias)));
  return feed_forward_norm_(h + feed_forward_(h));
}

TransformerBodyImpl::TransformerBodyImpl(const TransformerOptions& o) : causal_(o.causal) {
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.layers; ++i) blocks_->push_back(TransformerBlock(o));
  if (o.norm_first) {
    final_norm_ = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.d_model})));
  }
}

torch::Tensor TransformerBodyImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const torch::Tensor allowed = attention_mask(mask, causal_);
  const torch::Tensor keep = mask.unsqueeze(-1);
  torch::Tensor h = x;
  for (const auto& block : *blocks_) h = block->as<TransformerBlock>()->forward(h, allowed) * keep;
  if (final_norm_) h = final_norm_(h) * keep;
  return h;
}

}  // namespace seqrec::model
