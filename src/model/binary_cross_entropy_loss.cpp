#include <utility>

#include "seqrec/model/item_loss.h"
#include "seqrec/model/keyed_random.h"

namespace seqrec::model {

BinaryCrossEntropyLossImpl::BinaryCrossEntropyLossImpl(torch::Tensor sampling_distribution) {
  cdf_ = register_buffer("cdf", distribution_cdf(sampling_distribution));
}

torch::Tensor BinaryCrossEntropyLossImpl::forward(const LabelledPositions& p, EmbeddingTableImpl& items,
                                                  uint64_t seed) {
  // One negative per position, keyed by its session and slot.
  const torch::Tensor negatives = sample_items(keyed_uniform(p.keys, draw_seed(seed, Draw::Negative)), cdf_);
  // One lookup for both: on a sharded table each lookup is a round of all-to-all.
  const torch::Tensor rows = items.forward(torch::cat({p.labels, negatives}));
  const int64_t n = p.labels.size(0);
  const torch::Tensor positive = (p.hidden * rows.slice(0, 0, n)).sum(-1);
  const torch::Tensor negative = (p.hidden * rows.slice(0, n)).sum(-1);
  // -log sigmoid(x) = softplus(-x), without overflow for large |x|.
  return (torch::softplus(-positive) + torch::softplus(negative)).sum();
}

}  // namespace seqrec::model
