#include "seqrec/model/xlnet_body.h"

#include "seqrec/model/transformer_body.h"

namespace seqrec::model {

namespace {

RelativeBiasOptions bias_options(const XlnetOptions& o) {
  RelativeBiasOptions bias;
  bias.heads = o.blocks.heads;
  bias.max_seq_len = o.max_seq_len;
  bias.position_buckets = o.position_buckets;
  bias.bidirectional = true;
  return bias;
}

}  // namespace

TwoStreamMasks two_stream_masks(const torch::Tensor& mask, const torch::Tensor& order) {
  const torch::Tensor both_real = (mask.unsqueeze(2) & mask.unsqueeze(1)).unsqueeze(1);  // [B, 1, L(query), L(key)]
  const torch::Tensor query_order = order.unsqueeze(2).unsqueeze(1), key_order = order.unsqueeze(1).unsqueeze(1);
  return {both_real & (key_order <= query_order), both_real & (key_order < query_order)};
}

XlnetBodyImpl::XlnetBodyImpl(const XlnetOptions& o) : bias_options_(bias_options(o)) {
  bias_ = register_module("relative_bias", RelativeAttentionBias(bias_options_));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.blocks.layers; ++i) blocks_->push_back(TransformerBlock(o.blocks));
  if (o.blocks.norm_first) {
    final_norm_ = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.blocks.d_model})));
  }
}

torch::Tensor XlnetBodyImpl::run(torch::Tensor streams, int64_t keys, const torch::Tensor& allowed,
                                 const torch::Tensor& keep, int64_t first) {
  RelativeBuckets buckets = relative_buckets(keys, {}, bias_options_);
  buckets.positions = buckets.positions.to(streams.device());
  const torch::Tensor bias = bias_(buckets);  // [1, H, keys, keys]: each stream's rows alike
  const torch::Tensor stream_bias = bias.repeat({1, 1, streams.size(1) / keys, 1});
  const torch::Tensor kept = keep.unsqueeze(-1);
  for (size_t i = 0; i < blocks_->size(); ++i) {
    const int64_t from = i + 1 == blocks_->size() ? first : 0;
    streams = blocks_[i]->as<TransformerBlock>()->forward(streams, keys, allowed, stream_bias, from) * kept.slice(1, from);
  }
  return streams;
}

torch::Tensor XlnetBodyImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const torch::Tensor order = torch::zeros(mask.sizes(), mask.options().dtype(torch::kInt64));
  torch::Tensor h = run(x, x.size(1), two_stream_masks(mask, order).content, mask, 0);
  return final_norm_ ? final_norm_(h) * mask.unsqueeze(-1) : h;
}

torch::Tensor XlnetBodyImpl::forward_in_order(const torch::Tensor& x, const torch::Tensor& queries,
                                              const torch::Tensor& mask, const torch::Tensor& order) {
  const int64_t length = x.size(1);
  const TwoStreamMasks masks = two_stream_masks(mask, order);
  const torch::Tensor g = run(torch::cat({x, queries}, 1), length, torch::cat({masks.content, masks.query}, 2),
                              torch::cat({mask, mask}, 1), length);
  return final_norm_ ? final_norm_(g) * mask.unsqueeze(-1) : g;
}

}  // namespace seqrec::model
