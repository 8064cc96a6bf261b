#include <limits>
#include <utility>

#include "seqrec/data/schema.h"
#include "seqrec/model/item_loss.h"

namespace seqrec::model {

SampledSoftmaxLossImpl::SampledSoftmaxLossImpl(torch::Tensor sampling_distribution, int64_t negatives)
    : negatives_(negatives) {
  distribution_ = register_buffer("distribution", std::move(sampling_distribution));
}

torch::Tensor SampledSoftmaxLossImpl::forward(const torch::Tensor& hidden, const torch::Tensor& labels,
                                              const torch::Tensor& items) {
  const torch::Tensor negatives = torch::multinomial(distribution_, negatives_, /*replacement=*/true);
  return sampled_softmax_loss(hidden, labels, items, negatives, distribution_.log());
}

torch::Tensor sampled_softmax_loss(const torch::Tensor& hidden, const torch::Tensor& labels, const torch::Tensor& items,
                                   const torch::Tensor& negatives, const torch::Tensor& log_q) {
  const torch::Tensor positive = (hidden * items.index_select(0, labels)).sum(-1) - log_q.index_select(0, labels);
  const torch::Tensor negative =
      (hidden.matmul(items.index_select(0, negatives).t()) - log_q.index_select(0, negatives))
          .masked_fill(negatives.unsqueeze(0) == labels.unsqueeze(1), -std::numeric_limits<float>::infinity());
  const torch::Tensor logits = torch::cat({positive.unsqueeze(1), negative}, 1);
  return (torch::logsumexp(logits, 1) - positive).mean();
}

torch::Tensor uniform_item_distribution(int64_t cardinality) {
  torch::Tensor distribution = torch::ones({cardinality});
  distribution.slice(0, 0, kFirstRealId).zero_();
  return distribution / distribution.sum();
}

}  // namespace seqrec::model
