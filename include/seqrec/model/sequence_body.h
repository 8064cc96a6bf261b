// The stack of blocks between the input block and the item scores.
#pragma once

#include <stdexcept>

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
  // Two-stream bodies (XLNet) under a factorisation order (MaskedBatch::order): x [B, L, d]
  // the content stream's inputs, queries [B, L, d] the query stream's, mask as forward,
  // order [B, L] int64 -> the query stream's outputs [B, L, d], zero at padding slots.
  // build_recommender pairs plm with such a body only.
  virtual torch::Tensor forward_in_order(const torch::Tensor& /*x*/, const torch::Tensor& /*queries*/,
                                         const torch::Tensor& /*mask*/, const torch::Tensor& /*order*/) {
    throw std::logic_error("this body has no query stream to run under a factorisation order");
  }
};

}  // namespace seqrec::model
