#include <limits>
#include <utility>

#include "seqrec/data/schema.h"
#include "seqrec/model/item_loss.h"

namespace seqrec::model {

SampledSoftmaxLossImpl::SampledSoftmaxLossImpl(torch::Tensor sampling_distribution, int64_t negatives,
                                               bool per_position)
    : negatives_(negatives), per_position_(per_position) {
  log_q_ = register_buffer("log_q", sampling_distribution.log());
  cdf_ = register_buffer("cdf", distribution_cdf(sampling_distribution));
}

torch::Tensor SampledSoftmaxLossImpl::forward(const LabelledPositions& p, EmbeddingTableImpl& items, uint64_t seed) {
  const SampledRows rows = draw_negatives(p, items, cdf_, negatives_, per_position_, seed);
  return sampled_softmax_loss(p.hidden, p.labels, rows.label_rows, rows.negatives, rows.negative_rows, log_q_);
}

torch::Tensor sampled_softmax_loss(const torch::Tensor& hidden, const torch::Tensor& labels,
                                   const torch::Tensor& label_rows, const torch::Tensor& negatives,
                                   const torch::Tensor& negative_rows, const torch::Tensor& log_q) {
  const torch::Tensor positive = (hidden * label_rows).sum(-1) - log_q.index_select(0, labels);
  const torch::Tensor scores = negative_scores(hidden, negatives, negative_rows);
  const torch::Tensor hits = accidental_hits(labels, negatives);
  const torch::Tensor negative = (scores - log_q.index_select(0, negatives.flatten()).view(negatives.sizes()))
                                     .masked_fill(hits, -std::numeric_limits<float>::infinity());
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
