#include <limits>
#include <utility>

#include "seqrec/data/schema.h"
#include "seqrec/model/item_loss.h"
#include "seqrec/model/keyed_random.h"

namespace seqrec::model {

SampledSoftmaxLossImpl::SampledSoftmaxLossImpl(torch::Tensor sampling_distribution, int64_t negatives)
    : negatives_(negatives) {
  log_q_ = register_buffer("log_q", sampling_distribution.log());
  cdf_ = register_buffer("cdf", distribution_cdf(sampling_distribution));
}

torch::Tensor SampledSoftmaxLossImpl::forward(const LabelledPositions& p, EmbeddingTableImpl& items, uint64_t seed) {
  // The step's negatives are keyed by their index alone: every rank draws the same ones.
  const torch::Tensor negatives = sample_items(keyed_uniform(torch::arange(negatives_), seed), cdf_);
  // One lookup for both: on a sharded table each lookup is a round of all-to-all.
  const torch::Tensor rows = items.forward(torch::cat({p.labels, negatives}));
  const int64_t n = p.labels.size(0);
  return sampled_softmax_loss(p.hidden, p.labels, rows.slice(0, 0, n), negatives, rows.slice(0, n), log_q_);
}

torch::Tensor sampled_softmax_loss(const torch::Tensor& hidden, const torch::Tensor& labels,
                                   const torch::Tensor& label_rows, const torch::Tensor& negatives,
                                   const torch::Tensor& negative_rows, const torch::Tensor& log_q) {
  const torch::Tensor positive = (hidden * label_rows).sum(-1) - log_q.index_select(0, labels);
  const torch::Tensor negative =
      (hidden.matmul(negative_rows.t()) - log_q.index_select(0, negatives))
          .masked_fill(negatives.unsqueeze(0) == labels.unsqueeze(1), -std::numeric_limits<float>::infinity());
  const torch::Tensor logits = torch::cat({positive.unsqueeze(1), negative}, 1);
  return (torch::logsumexp(logits, 1) - positive).sum();
}

torch::Tensor uniform_item_distribution(int64_t cardinality) {
  torch::Tensor distribution = torch::ones({cardinality});
  distribution.slice(0, 0, kFirstRealId).zero_();
  return distribution / distribution.sum();
}

torch::Tensor distribution_cdf(const torch::Tensor& distribution) {
  const torch::Tensor cdf = distribution.to(torch::kFloat64).cumsum(0);
  return cdf / cdf[-1];
}

}  // namespace seqrec::model
