// The stack of blocks between the input block and the item scores.
#pragma once

#include <torch/torch.h>

namespace seqrec::model {

class SequenceBodyImpl : public torch::nn::Module {
 public:
  // x [B, L, d] from the input block, mask [B, L] true at real events and [MASK] slots
  // -> [B, L, d], zero at padding slots.
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) = 0;
  // As forward, given each event's time too: times [B, L] float64 Unix seconds (any
  // value at padding slots), undefined when the data set has none. Bodies that make no
  // use of time (all but HSTU) ignore it.
  virtual torch::Tensor forward_with_times(const torch::Tensor& x, const torch::Tensor& mask,
                                           const torch::Tensor& /*times*/) {
    return forward(x, mask);
  }
};

}  // namespace seqrec::model
