// The SASRec body (Kang & McAuley, "Self-Attentive Sequential Recommendation", 2018):
// causal blocks whose attention takes queries from the layer-normed input and keys and
// values from the input itself, with the residual around the normed input; ReLU
// feed-forward; a final layer norm.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "seqrec/model/attention.h"
#include "seqrec/model/feed_forward.h"
#include "seqrec/model/sequence_body.h"

namespace seqrec::model {

struct SasrecOptions {
  int64_t d_model = 64;
  int64_t layers = 2;
  int64_t heads = 1;
  int64_t d_ff = 64;  // the paper uses d_model
  double dropout = 0.2;
};

class SasrecBlockImpl : public torch::nn::Module {
 public:
  explicit SasrecBlockImpl(const SasrecOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& allowed);

 private:
  torch::nn::LayerNorm attention_norm_{nullptr}, feed_forward_norm_{nullptr};
  MultiHeadAttention attention_{nullptr};
  FeedForward feed_forward_{nullptr};
};
TORCH_MODULE(SasrecBlock);

class SasrecBodyImpl : public SequenceBodyImpl {
 public:
  explicit SasrecBodyImpl(const SasrecOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) override;

 private:
  torch::nn::ModuleList blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};
};

}  // namespace seqrec::model
