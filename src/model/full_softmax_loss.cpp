#include "seqrec/data/schema.h"
#include "seqrec/model/item_loss.h"

namespace seqrec::model {

FullSoftmaxLossImpl::FullSoftmaxLossImpl(double label_smoothing) : label_smoothing_(label_smoothing) {}

torch::Tensor FullSoftmaxLossImpl::forward(const LabelledPositions& positions, EmbeddingTableImpl& items, uint64_t) {
  // Reserved ids are never targets; leaving their rows out of the softmax also keeps label
  // smoothing from spreading mass onto them.
  return items.cross_entropy_sum(positions.hidden, positions.labels, kFirstRealId, label_smoothing_);
}

}  // namespace seqrec::model
