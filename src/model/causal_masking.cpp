#include "seqrec/model/masking.h"

namespace seqrec::model {

torch::Tensor last_event_slot(const torch::Tensor& mask) {
  const torch::Tensor slots = torch::arange(mask.size(1), mask.options().dtype(torch::kInt64));
  return (mask.to(torch::kInt64) * slots).argmax(1);
}

CausalMasking::CausalMasking(const Schema& schema) : item_name_(schema.item().name) {}

MaskedBatch CausalMasking::training(const Batch& batch, uint64_t) const {
  const torch::Tensor& items = batch.features.at(item_name_);
  const int64_t length = items.size(1);
  const torch::Tensor next_items = items.slice(1, 1);
  const torch::Tensor both_real = batch.mask.slice(1, 0, length - 1) & batch.mask.slice(1, 1);
  // Unknown items (rare or unseen values) are scored -inf, so they are never targets.
  const torch::Tensor labelled = both_real & (next_items >= kFirstRealId);
  const torch::Tensor labels = torch::constant_pad_nd(next_items * labelled, {0, 1});  // the last slot has none
  return {batch.features, batch.mask, {}, labels, {}, {}};
}

MaskedBatch CausalMasking::inference(const Batch& batch) const {
  return {batch.features, batch.mask, {}, {}, last_event_slot(batch.mask), {}};
}

}  // namespace seqrec::model
