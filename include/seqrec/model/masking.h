// Objectives' masking: what the body sees of a batch and which positions it must predict.
//
// clm (causal language modelling, SASRec / GPT-2): every real event predicts the next
// one, seeing only the past. mlm (masked language modelling, BERT4Rec): random events
// are hidden behind [MASK] and predicted from both sides; to score the next item a
// [MASK] slot is appended after the last event.
//
// Both work on right- and left-padded batches. Random choices are keyed by (seed,
// session, slot) (see keyed_random.h): a session is masked alike on any rank.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "seqrec/data/batch.h"
#include "seqrec/data/schema.h"

namespace seqrec::model {

struct MaskedBatch {
  std::map<std::string, torch::Tensor> features;  // the batch's, sequence features moved for an appended slot
  torch::Tensor mask;    // [B, L] real events and [MASK] slots
  torch::Tensor hidden;  // [B, L] slots shown as [MASK]; undefined when none are
  torch::Tensor labels;  // training: [B, L] item to predict at each slot, kPaddingId where none
  torch::Tensor query;   // inference: [B] slot whose output scores the next item
};

class Masking {
 public:
  virtual ~Masking() = default;
  virtual bool causal() const = 0;
  // seed: the step's, shared by all ranks.
  virtual MaskedBatch training(const Batch& batch, uint64_t seed) const = 0;
  virtual MaskedBatch inference(const Batch& batch) const = 0;
};

class CausalMasking : public Masking {
 public:
  explicit CausalMasking(const Schema& schema);
  bool causal() const override { return true; }
  // The label of a slot is the next event's item; the last event has none.
  MaskedBatch training(const Batch& batch, uint64_t seed) const override;
  // The last real event's output scores the next item.
  MaskedBatch inference(const Batch& batch) const override;

 private:
  std::string item_name_;
};

class MaskedItemMasking : public Masking {
 public:
  MaskedItemMasking(const Schema& schema, double probability);
  bool causal() const override { return false; }
  // Each real event is hidden with `probability`, at least one per session; labels are
  // the hidden items.
  MaskedBatch training(const Batch& batch, uint64_t seed) const override;
  // A [MASK] slot after the last event; a full session drops its oldest event for it.
  MaskedBatch inference(const Batch& batch) const override;

 private:
  std::string item_name_;
  std::vector<std::string> sequence_names_;
  double probability_;
};

// [B]: the slot of each session's last real event, whatever the padding side.
torch::Tensor last_event_slot(const torch::Tensor& mask);

}  // namespace seqrec::model
