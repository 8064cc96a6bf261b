// The HSTU body (Zhai et al., "Actions Speak Louder than Words: Trillion-Parameter
// Sequential Transducers for Generative Recommendations", 2024). Each layer:
//   U, V, Q, K = split(SiLU(Linear(LayerNorm(X))))
//   A = SiLU(Q K^T + rab^{p,t}) / max_seq_len     (pointwise, no softmax; causal, no padding keys)
//   Y = X + Linear(Dropout(LayerNorm(A V) * U))
// Causal, so it trains under CLM only. The relative bias covers event distances and,
// given event times, time gaps; a final layer norm (the residual stream is never normed
// otherwise) stands in for the reference's L2-normalised outputs.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "seqrec/model/dropout.h"
#include "seqrec/model/relative_attention_bias.h"
#include "seqrec/model/sequence_body.h"

namespace seqrec::model {

struct HstuOptions {
  int64_t d_model = 64;  // U, V, Q and K each d_model wide, split over the heads
  int64_t layers = 2;
  int64_t heads = 1;
  double dropout = 0.2;
  int64_t max_seq_len = 50;  // attention sums are divided by it, as in the reference
  int64_t position_buckets = 32;
  int64_t time_buckets = 0;  // 0: no time bias; the data set's events carry no times
};

class HstuBlockImpl : public torch::nn::Module {
 public:
  explicit HstuBlockImpl(const HstuOptions& options);
  // x [B, L, d], allowed [B, 1, L, L] (see attention_mask) -> [B, L, d]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& allowed, const RelativeBuckets& buckets);

 private:
  torch::Tensor split_heads(const torch::Tensor& x) const;  // [B, L, d] -> [B, H, L, d/H]

  int64_t d_model_, heads_;
  double max_seq_len_;
  torch::nn::LayerNorm input_norm_{nullptr}, attention_norm_{nullptr};
  torch::nn::Linear uvqk_{nullptr}, output_{nullptr};
  RelativeAttentionBias bias_{nullptr};
  Dropout dropout_{nullptr};
};
TORCH_MODULE(HstuBlock);

class HstuBodyImpl : public SequenceBodyImpl {
 public:
  explicit HstuBodyImpl(const HstuOptions& options);
  // Without times: the bias of distances alone.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) override;
  torch::Tensor forward_with_times(const torch::Tensor& x, const torch::Tensor& mask,
                                   const torch::Tensor& times) override;

 private:
  RelativeBiasOptions bias_options_;
  torch::nn::ModuleList blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};
};
TORCH_MODULE(HstuBody);

}  // namespace seqrec::model
