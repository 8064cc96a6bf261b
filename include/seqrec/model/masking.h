// Objectives' masking: what the body sees of a batch and which positions it must predict.
//
// clm (causal language modelling, SASRec / GPT-2): every real event predicts the next
// one, seeing only the past. mlm (masked language modelling, BERT4Rec): random events
// are hidden behind [MASK] and predicted from both sides; to score the next item a
// [MASK] slot is appended after the last event. plm (permutation language modelling,
// XLNet): spans of events are predicted in a random factorisation order that puts them
// after every other event, by a two-stream body (xlnet_body.h).
//
// All work on right- and left-padded batches. Random choices are keyed by (seed,
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
  // plm: [B, L] int64, each slot's place in the factorisation order: 0 for events every
  // slot may see, 1, 2, ... for the targets in the order they are predicted in; a slot
  // sees the events no later in the order. Undefined for the other objectives.
  torch::Tensor order;
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

// XLNet's objective (Yang et al., "XLNet: Generalized Autoregressive Pretraining", 2019),
// as Transformers4Rec's PLM: spans of neighbouring events become targets, predicted last
// and in random order by the query stream of a two-stream body. Works on events, not
// slots: a session gets the same targets and order with either padding side.
class PermutationMasking : public Masking {
 public:
  PermutationMasking(const Schema& schema, double probability, int64_t max_span_length);
  bool causal() const override { return false; }
  // Each session's events are cut into windows, one span of 1..max_span_length events
  // (uniform) per window, the window floor(span / probability) events long, so about
  // `probability` of the events are targets; at least one per session. The span lies at a
  // random place in its window, a non-target after it wherever the window has room, so
  // spans never run into each other. Targets come after every other event in the order,
  // among themselves in random order. Labels are the targets' items; nothing is hidden
  // from the content stream.
  MaskedBatch training(const Batch& batch, uint64_t seed) const override;
  // A slot after the last event, as for mlm, the only target: its query stream sees every
  // real event.
  MaskedBatch inference(const Batch& batch) const override;

 private:
  std::string item_name_;
  std::vector<std::string> sequence_names_;
  double probability_;
  int64_t max_span_length_;
};

// The batch with a [MASK] slot after each session's last event (hidden and query), a full
// session dropping its oldest event for it; sequence features named move with the events.
MaskedBatch with_query_slot(const Batch& batch, const std::vector<std::string>& sequence_names);

// [B]: the slot of each session's last real event, whatever the padding side.
torch::Tensor last_event_slot(const torch::Tensor& mask);

}  // namespace seqrec::model
