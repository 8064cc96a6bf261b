// A general transformer encoder: causal (GPT-2 style, for next-item objectives) or
// bidirectional (BERT style, for masked-item objectives), pre- or post-layer-norm.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "seqrec/model/attention.h"
#include "seqrec/model/dropout.h"
#include "seqrec/model/feed_forward.h"
#include "seqrec/model/sequence_body.h"

namespace seqrec::model {

struct TransformerOptions {
  int64_t d_model = 64;
  int64_t layers = 2;
  int64_t heads = 2;
  int64_t d_ff = 256;
  double dropout = 0.1;
  bool norm_first = true;  // pre-LN (GPT-2); false: post-LN (original transformer, BERT)
  Activation activation = Activation::Gelu;
  bool causal = true;
};

class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const TransformerOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& allowed);
  // Queries from the rows of x [B, R, d] from `first` on, keys and values from its first
  // `keys` rows only, allowed [B, 1, R, keys], bias [B or 1, H, R, keys] (or undefined)
  // added to the attention scores: XLNet's two streams, content rows then query rows,
  // through one block. Returns the rows from `first` on.
  torch::Tensor forward(const torch::Tensor& x, int64_t keys, const torch::Tensor& allowed, const torch::Tensor& bias,
                        int64_t first = 0);

 private:
  bool norm_first_;
  torch::nn::LayerNorm attention_norm_{nullptr}, feed_forward_norm_{nullptr};
  MultiHeadAttention attention_{nullptr};
  Dropout dropout_{nullptr};
  FeedForward feed_forward_{nullptr};
};
TORCH_MODULE(TransformerBlock);

class TransformerBodyImpl : public SequenceBodyImpl {
 public:
  explicit TransformerBodyImpl(const TransformerOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) override;

 private:
  bool causal_;
  torch::nn::ModuleList blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};  // pre-LN only: its residual stream is never normed otherwise
};

}  // namespace seqrec::model
