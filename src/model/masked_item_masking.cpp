#include "seqrec/model/keyed_random.h"
#include "seqrec/model/masking.h"

namespace seqrec::model {

MaskedItemMasking::MaskedItemMasking(const Schema& schema, double probability)
    : item_name_(schema.item().name), probability_(probability) {
  for (const FeatureSpec& f : schema.sequence_features()) sequence_names_.push_back(f.name);
}

MaskedBatch MaskedItemMasking::training(const Batch& batch, uint64_t seed) const {
  const torch::Tensor& real = batch.mask;
  const torch::Tensor& items = batch.features.at(item_name_);
  const torch::Tensor keys = slot_keys(batch.session_ids, real.size(1));
  torch::Tensor hidden = (keyed_uniform(keys, draw_seed(seed, Draw::Mask)) < probability_) & real;
  // Sessions the draw left untouched get one hidden event, uniform over their events.
  const torch::Tensor untouched = hidden.any(1).logical_not() & real.any(1);
  const torch::Tensor one_slot =
      keyed_uniform(keys, draw_seed(seed, Draw::MaskFallback)).masked_fill(real.logical_not(), -1).argmax(1);
  hidden = hidden | (torch::one_hot(one_slot, real.size(1)).to(torch::kBool) & untouched.unsqueeze(1));
  // Unknown items are hidden like any other but, scored -inf, are never targets.
  const torch::Tensor labels = items * (hidden & (items >= kFirstRealId));
  return {batch.features, real, hidden, labels, {}, {}};
}

MaskedBatch MaskedItemMasking::inference(const Batch& batch) const { return with_query_slot(batch, sequence_names_); }

MaskedBatch with_query_slot(const Batch& batch, const std::vector<std::string>& sequence_names) {
  const int64_t length = batch.mask.size(1);
  // Sessions whose last slot is taken (full, or left-padded) move left by one slot.
  const torch::Tensor shift = batch.mask.select(1, length - 1).to(torch::kInt64);
  const torch::Tensor slots = torch::arange(length, shift.options()).unsqueeze(0);
  const torch::Tensor source = (slots + shift.unsqueeze(1)).clamp_max(length - 1);
  const torch::Tensor query = last_event_slot(batch.mask) + 1 - shift;
  const torch::Tensor hidden = torch::one_hot(query, length).to(torch::kBool);

  MaskedBatch out{batch.features, batch.mask.gather(1, source) | hidden, hidden, {}, query, {}};
  for (const std::string& name : sequence_names) {
    const torch::Tensor& values = batch.features.at(name);
    const torch::Tensor index = values.dim() == 2 ? source : source.unsqueeze(-1).expand_as(values);
    out.features[name] = values.gather(1, index);
  }
  return out;
}

}  // namespace seqrec::model
