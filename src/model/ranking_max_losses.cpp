#include <limits>
#include <utility>

#include "seqrec/model/item_loss.h"

namespace seqrec::model {

namespace {

// log s_j: log-softmax of the negatives' scores [N, K] without the excluded ones. A row
// with nothing left keeps all its scores: its weights stay finite (no NaN in backward),
// and `usable` [N] (0 for such rows) drops its loss.
std::pair<torch::Tensor, torch::Tensor> log_weights(const torch::Tensor& negative, const torch::Tensor& excluded) {
  const torch::Tensor usable = excluded.logical_not().any(1, /*keepdim=*/true);
  const torch::Tensor left_out = excluded & usable;
  const torch::Tensor log_s =
      torch::log_softmax(negative.masked_fill(left_out, -std::numeric_limits<float>::infinity()), 1);
  return {log_s, usable.squeeze(1).to(negative.scalar_type())};
}

}  // namespace

torch::Tensor bpr_max_loss(const torch::Tensor& positive, const torch::Tensor& negative, const torch::Tensor& excluded,
                           double regularization) {
  const auto [log_s, usable] = log_weights(negative, excluded);
  // log sum_j s_j sigmoid(r_i - r_j) as a logsumexp of logs: no underflow to log(0) when
  // the label trails every negative by far.
  const torch::Tensor log_ranked_above =
      torch::logsumexp(log_s + torch::log_sigmoid(positive.unsqueeze(1) - negative), 1);
  const torch::Tensor penalty = (log_s.exp() * negative.square()).sum(1);
  return ((regularization * penalty - log_ranked_above) * usable).sum();
}

torch::Tensor top1_max_loss(const torch::Tensor& positive, const torch::Tensor& negative,
                            const torch::Tensor& excluded) {
  const auto [log_s, usable] = log_weights(negative, excluded);
  const torch::Tensor per_negative =
      torch::sigmoid(negative - positive.unsqueeze(1)) + torch::sigmoid(negative.square());
  return ((log_s.exp() * per_negative).sum(1) * usable).sum();
}

RankingMaxLossImpl::RankingMaxLossImpl(RankingMax kind, torch::Tensor sampling_distribution, int64_t negatives,
                                       bool per_position, double bpr_regularization)
    : kind_(kind), negatives_(negatives), per_position_(per_position), bpr_regularization_(bpr_regularization) {
  cdf_ = register_buffer("cdf", distribution_cdf(sampling_distribution));
}

torch::Tensor RankingMaxLossImpl::forward(const LabelledPositions& p, EmbeddingTableImpl& items, uint64_t seed) {
  const SampledRows rows = draw_negatives(p, items, cdf_, negatives_, per_position_, seed);
  const torch::Tensor positive = (p.hidden * rows.label_rows).sum(-1);
  const torch::Tensor negative = negative_scores(p.hidden, rows.negatives, rows.negative_rows);
  const torch::Tensor hits = accidental_hits(p.labels, rows.negatives);
  return kind_ == RankingMax::Bpr ? bpr_max_loss(positive, negative, hits, bpr_regularization_)
                                  : top1_max_loss(positive, negative, hits);
}

}  // namespace seqrec::model
