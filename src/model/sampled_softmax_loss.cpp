#include <limits>
#include <utility>
#include <vector>

#include "seqrec/data/schema.h"
#include "seqrec/model/item_loss.h"
#include "seqrec/model/keyed_random.h"

namespace seqrec::model {

SampledSoftmaxLossImpl::SampledSoftmaxLossImpl(torch::Tensor sampling_distribution, int64_t negatives,
                                               bool per_position)
    : negatives_(negatives), per_position_(per_position) {
  log_q_ = register_buffer("log_q", sampling_distribution.log());
  cdf_ = register_buffer("cdf", distribution_cdf(sampling_distribution));
}

torch::Tensor SampledSoftmaxLossImpl::forward(const LabelledPositions& p, EmbeddingTableImpl& items, uint64_t seed) {
  // Keyed by (position key, index) or by the index alone: every rank draws the same ones.
  const torch::Tensor index = torch::arange(negatives_, p.keys.options());
  const torch::Tensor keys = per_position_ ? p.keys.unsqueeze(1) * negatives_ + index : index;
  const torch::Tensor negatives = sample_items(keyed_uniform(keys, seed), cdf_);
  // One lookup for both: on a sharded table each lookup is a round of all-to-all.
  const torch::Tensor rows = items.forward(torch::cat({p.labels, negatives.flatten()}));
  const int64_t n = p.labels.size(0);
  std::vector<int64_t> negative_shape = negatives.sizes().vec();
  negative_shape.push_back(rows.size(1));
  return sampled_softmax_loss(p.hidden, p.labels, rows.slice(0, 0, n), negatives,
                              rows.slice(0, n).view(negative_shape), log_q_);
}

torch::Tensor sampled_softmax_loss(const torch::Tensor& hidden, const torch::Tensor& labels,
                                   const torch::Tensor& label_rows, const torch::Tensor& negatives,
                                   const torch::Tensor& negative_rows, const torch::Tensor& log_q) {
  const bool shared = negatives.dim() == 1;
  const torch::Tensor positive = (hidden * label_rows).sum(-1) - log_q.index_select(0, labels);
  const torch::Tensor scores = shared ? hidden.matmul(negative_rows.t())                              // [N, K]
                                      : torch::bmm(negative_rows, hidden.unsqueeze(2)).squeeze(2);  // [N, K]
  const torch::Tensor hits = (shared ? negatives.unsqueeze(0) : negatives) == labels.unsqueeze(1);
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
