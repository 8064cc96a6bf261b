#include "seqrec/data/schema.h"
#include "seqrec/model/item_loss.h"

namespace seqrec::model {

FullSoftmaxLossImpl::FullSoftmaxLossImpl(double label_smoothing) : label_smoothing_(label_smoothing) {}

torch::Tensor FullSoftmaxLossImpl::forward(const torch::Tensor& hidden, const torch::Tensor& labels,
                                           const torch::Tensor& items) {
  // Reserved ids are never targets; leaving their rows out of the softmax also keeps label
  // smoothing from spreading mass onto them.
  const torch::Tensor logits = hidden.matmul(items.slice(0, kFirstRealId).t());
  namespace F = torch::nn::functional;
  return F::cross_entropy(logits, labels - kFirstRealId,
                          F::CrossEntropyFuncOptions().label_smoothing(label_smoothing_));
}

}  // namespace seqrec::model
