#include <vector>

#include "seqrec/model/item_loss.h"
#include "seqrec/model/keyed_random.h"

namespace seqrec::model {

SampledRows draw_negatives(const LabelledPositions& p, EmbeddingTableImpl& items, const torch::Tensor& cdf,
                           int64_t count, bool per_position, uint64_t seed) {
  const torch::Tensor index = torch::arange(count, p.keys.options());
  const torch::Tensor keys = per_position ? p.keys.unsqueeze(1) * count + index : index;
  const torch::Tensor negatives = sample_items(keyed_uniform(keys, draw_seed(seed, Draw::Negative)), cdf);
  // One lookup for both: on a sharded table each lookup is a round of all-to-all.
  const torch::Tensor rows = items.forward(torch::cat({p.labels, negatives.flatten()}));
  const int64_t n = p.labels.size(0);
  std::vector<int64_t> negative_shape = negatives.sizes().vec();
  negative_shape.push_back(rows.size(1));
  return {negatives, rows.slice(0, 0, n), rows.slice(0, n).view(negative_shape)};
}

torch::Tensor negative_scores(const torch::Tensor& hidden, const torch::Tensor& negatives,
                              const torch::Tensor& negative_rows) {
  return negatives.dim() == 1 ? hidden.matmul(negative_rows.t())
                              : torch::bmm(negative_rows, hidden.unsqueeze(2)).squeeze(2);
}

torch::Tensor accidental_hits(const torch::Tensor& labels, const torch::Tensor& negatives) {
  return (negatives.dim() == 1 ? negatives.unsqueeze(0) : negatives) == labels.unsqueeze(1);
}

}  // namespace seqrec::model
