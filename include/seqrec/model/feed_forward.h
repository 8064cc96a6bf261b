// The position-wise feed-forward sublayer: d_model -> d_ff -> d_model.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "seqrec/model/dropout.h"

namespace seqrec::model {

enum class Activation { Relu, Gelu };

class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(int64_t d_model, int64_t d_ff, Activation activation, double dropout);

  torch::Tensor forward(const torch::Tensor& x);  // [..., d_model] -> [..., d_model]

 private:
  Activation activation_;
  torch::nn::Linear expand_{nullptr}, contract_{nullptr};
  Dropout dropout_{nullptr};
};
TORCH_MODULE(FeedForward);

}  // namespace seqrec::model
