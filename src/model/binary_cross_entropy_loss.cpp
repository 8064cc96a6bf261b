#include <utility>

#include "seqrec/model/item_loss.h"

namespace seqrec::model {

BinaryCrossEntropyLossImpl::BinaryCrossEntropyLossImpl(torch::Tensor sampling_distribution) {
  distribution_ = register_buffer("distribution", std::move(sampling_distribution));
}

torch::Tensor BinaryCrossEntropyLossImpl::forward(const torch::Tensor& hidden, const torch::Tensor& labels,
                                                  const torch::Tensor& items) {
  const torch::Tensor negatives = torch::multinomial(distribution_, labels.size(0), /*replacement=*/true);
  const torch::Tensor positive = (hidden * items.index_select(0, labels)).sum(-1);
  const torch::Tensor negative = (hidden * items.index_select(0, negatives)).sum(-1);
  // -log sigmoid(x) = softplus(-x), without overflow for large |x|.
  return (torch::softplus(-positive) + torch::softplus(negative)).mean();
}

}  // namespace seqrec::model
