// Multi-head self-attention over a session, with padding and (optionally) causal masks.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace seqrec::model {

// Which keys each query may attend to: [B, 1, L, L] bool, true where allowed. Keys must
// be real events and, for a causal body, not later than the query. Every query may see
// itself, so no softmax row is empty; outputs at padding slots are zeroed by the bodies.
torch::Tensor attention_mask(const torch::Tensor& mask, bool causal);

class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  MultiHeadAttentionImpl(int64_t d_model, int64_t heads, double dropout);

  // Queries come from `query_input`, keys and values from `key_value_input`: the same
  // tensor except in SASRec, whose queries are layer-normed and keys are not, and in
  // XLNet, whose query stream reads the content stream. bias (undefined for none) is
  // added to the scores: relative positions. A query allowed no key (XLNet's may have
  // none) attends to nothing: its heads are zero.
  // [B, Lq, d], [B, Lk, d], allowed [B, 1, Lq, Lk], bias [B or 1, H, Lq, Lk] -> [B, Lq, d]
  torch::Tensor forward(const torch::Tensor& query_input, const torch::Tensor& key_value_input,
                        const torch::Tensor& allowed, const torch::Tensor& bias = {});

 private:
  torch::Tensor split_heads(const torch::Tensor& x) const;  // [B, L, d] -> [B, H, L, d/H]

  int64_t heads_;
  double dropout_;
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, output_{nullptr};
};
TORCH_MODULE(MultiHeadAttention);

}  // namespace seqrec::model
