// The stack of blocks between the input block and the item scores.
#pragma once

#include <torch/torch.h>

namespace seqrec::model {

class SequenceBodyImpl : public torch::nn::Module {
 public:
  // x [B, L, d] from the input block, mask [B, L] true at real events and [MASK] slots
  // -> [B, L, d], zero at padding slots.
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) = 0;
};

}  // namespace seqrec::model
