// Inverted dropout whose CPU mask is drawn by a counter-based hash instead of one call to
// torch's Mersenne Twister per element: on the Debian LibTorch (no MKL) bernoulli_ was
// 15% of a SASRec training step. One 64-bit draw from torch's default CPU generator seeds
// each call, so torch::manual_seed and the checkpointed generator state still decide every
// mask, and a mask does not depend on the number of threads that fill it. The keep test
// compares 16 random bits with p (p is rounded to a multiple of 1/65536). Other devices use
// torch::dropout.
#pragma once

#include <torch/torch.h>

namespace seqrec::model {

torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

class DropoutImpl : public torch::nn::Module {
 public:
  explicit DropoutImpl(double p);

  torch::Tensor forward(const torch::Tensor& x);

 private:
  double p_;
};
TORCH_MODULE(Dropout);

}  // namespace seqrec::model
