#include <utility>

#include "seqrec/model/item_loss.h"

namespace seqrec::model {

TemperedLossImpl::TemperedLossImpl(std::shared_ptr<ItemLossImpl> loss, double temperature)
    : temperature_(temperature) {
  loss_ = register_module("loss", std::move(loss));
}

torch::Tensor TemperedLossImpl::forward(const LabelledPositions& positions, EmbeddingTableImpl& items,
                                        uint64_t seed) {
  return loss_->forward({positions.hidden / temperature_, positions.labels, positions.keys}, items, seed);
}

}  // namespace seqrec::model
