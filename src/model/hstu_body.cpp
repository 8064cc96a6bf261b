#include "seqrec/model/hstu_body.h"

#include "seqrec/model/attention.h"

namespace seqrec::model {

namespace {

RelativeBiasOptions bias_options(const HstuOptions& o) {
  RelativeBiasOptions bias;
  bias.heads = o.heads;
  bias.max_seq_len = o.max_seq_len;
  bias.position_buckets = o.position_buckets;
  bias.time_buckets = o.time_buckets;
  return bias;
}

}  // namespace

HstuBlockImpl::HstuBlockImpl(const HstuOptions& o)
    : d_model_(o.d_model), heads_(o.heads), max_seq_len_(static_cast<double>(o.max_seq_len)) {
  input_norm_ = register_module("input_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.d_model})));
  uvqk_ = register_module("uvqk", torch::nn::Linear(o.d_model, 4 * o.d_model));
  bias_ = register_module("bias", RelativeAttentionBias(bias_options(o)));
  attention_norm_ = register_module("attention_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.d_model})));
  dropout_ = register_module("dropout", Dropout(o.dropout));
  output_ = register_module("output", torch::nn::Linear(o.d_model, o.d_model));
}

torch::Tensor HstuBlockImpl::split_heads(const torch::Tensor& x) const {
  // Sizes spelled out, not -1: an empty batch (a rank's share may be) has none to infer.
  return x.reshape({x.size(0), x.size(1), heads_, d_model_ / heads_}).transpose(1, 2);
}

torch::Tensor HstuBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& allowed,
                                     const RelativeBuckets& buckets) {
  const std::vector<torch::Tensor> uvqk = torch::silu(uvqk_(input_norm_(x))).split(d_model_, -1);
  const torch::Tensor& u = uvqk[0];
  const torch::Tensor v = split_heads(uvqk[1]), q = split_heads(uvqk[2]), k = split_heads(uvqk[3]);
  // Pointwise: a key's weight does not shrink as more keys are seen, so the output keeps
  // how much of the history points one way (the paper's argument against softmax). The
  // fixed divisor keeps an event's output independent of how its batch is padded.
  const torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) + bias_(buckets);  // [B, H, L, L]
  const torch::Tensor weights = torch::silu(scores).masked_fill(allowed.logical_not(), 0.0) / max_seq_len_;
  const torch::Tensor attended = torch::matmul(weights, v).transpose(1, 2).reshape({x.size(0), x.size(1), d_model_});
  return x + output_(dropout_(attention_norm_(attended) * u));
}

HstuBodyImpl::HstuBodyImpl(const HstuOptions& o) : bias_options_(bias_options(o)) {
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.layers; ++i) blocks_->push_back(HstuBlock(o));
  final_norm_ = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.d_model})));
}

torch::Tensor HstuBodyImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  return forward_with_times(x, mask, {});
}

torch::Tensor HstuBodyImpl::forward_with_times(const torch::Tensor& x, const torch::Tensor& mask,
                                               const torch::Tensor& times) {
  const torch::Tensor allowed = attention_mask(mask, /*causal=*/true);
  RelativeBuckets buckets = relative_buckets(x.size(1), times, bias_options_);
  buckets.positions = buckets.positions.to(x.device());  // once, not in every layer
  const torch::Tensor keep = mask.unsqueeze(-1);
  torch::Tensor h = x;
  for (const auto& block : *blocks_) h = block->as<HstuBlock>()->forward(h, allowed, buckets) * keep;
  return final_norm_(h) * keep;
}

}  // namespace seqrec::model
