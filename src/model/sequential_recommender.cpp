#include "seqrec/model/sequential_recommender.h"

#include <limits>
#include <utility>

#include "seqrec/core/error.h"
#include "seqrec/model/keyed_random.h"

namespace seqrec::model {

SequentialRecommenderImpl::SequentialRecommenderImpl(InputBlock input, std::shared_ptr<SequenceBodyImpl> body,
                                                     std::unique_ptr<Masking> masking,
                                                     std::shared_ptr<ItemLossImpl> loss, std::string time_feature,
                                                     SwapOptions swap)
    : masking_(std::move(masking)), time_feature_(std::move(time_feature)), swap_(std::move(swap)) {
  input_ = register_module("input", std::move(input));
  body_ = register_module("body", std::move(body));
  loss_ = register_module("loss", std::move(loss));
}

torch::Tensor SequentialRecommenderImpl::encode(const MaskedBatch& masked) { return encode(*body_, masked); }

torch::Tensor SequentialRecommenderImpl::encode(SequenceBodyImpl& body, const MaskedBatch& masked) {
  const torch::Tensor x = input_(masked.features, masked.mask, masked.hidden);
  if (masked.order.defined()) {
    return body.forward_in_order(x, input_->query_start(masked.mask), masked.mask, masked.order);
  }
  const auto times = time_feature_.empty() ? masked.features.end() : masked.features.find(time_feature_);
  return body.forward_with_times(x, masked.mask, times == masked.features.end() ? torch::Tensor() : times->second);
}

void SequentialRecommenderImpl::add_session_heads(const TaskPlan& plan, SessionSummary summary, int64_t d_model) {
  next_item_weight_ = plan.next_item_weight;
  summary_ = summary;
  // A model without session tasks keeps exactly the parameters it always had.
  if (!plan.sessions.empty()) heads_ = register_module("session_heads", SessionHeads(plan.sessions, d_model));
}

std::vector<SessionTask> SequentialRecommenderImpl::session_tasks() const {
  return !heads_.is_empty() ? heads_->tasks() : std::vector<SessionTask>{};
}

std::map<std::string, torch::Tensor> SequentialRecommenderImpl::session_predictions(const Batch& batch) {
  if (heads_.is_empty()) return {};
  // The whole session as it is, whatever the objective hides in training.
  const torch::Tensor output = encode({batch.features, batch.mask, {}, {}, {}, {}});
  return heads_->predictions(summarise_session(output, batch.mask, summary_));
}

LossOutput SequentialRecommenderImpl::training_loss(const Batch& batch, uint64_t seed) {
  MaskedBatch masked = masking_->training(batch, seed);
  swap_inputs(batch, masked, seed);
  const torch::Tensor output = encode(masked);
  LossOutput out{torch::zeros({}, output.options()), 0, next_item_weight_, {}};
  if (!heads_.is_empty()) out.tasks = heads_->losses(summarise_session(output, masked.mask, summary_), batch.features);
  // Weight 0 turns the item loss off on every rank alike (its sharded scoring is collective).
  if (next_item_weight_ == 0) return out;
  const LossOutput items = item_loss(batch, masked, output, seed);
  out.loss_sum = items.loss_sum;
  out.labels = items.labels;
  return out;
}

void SequentialRecommenderImpl::swap_inputs(const Batch& batch, MaskedBatch& masked, uint64_t seed) {
  // After masking: labels keep the true items, only what the body sees is swapped.
  if (swap_.item_probability > 0) {
    torch::Tensor& items = masked.features.at(input_->item_feature());
    items = swap_ids(items, masked.mask, slot_keys(batch.session_ids, masked.mask.size(1)), swap_.item_probability,
                     input_->item_table().rows(), seed);
  }
  if (swap_.user_probability > 0) {
    torch::Tensor& users = masked.features.at(swap_.user_feature);
    // Keyed apart from the slots' draws: slot keys are >= 0.
    users = swap_ids(users, masked.mask.any(1), -1 - batch.session_ids, swap_.user_probability,
                     swap_.user_cardinality, seed);
  }
}

LossOutput SequentialRecommenderImpl::item_loss(const Batch& batch, const MaskedBatch& masked,
                                                const torch::Tensor& output, uint64_t seed) {
  // Only labelled slots reach the item table: a fraction of B * L under mlm. A batch
  // without labels still computes its (zero) loss: every rank joins every step.
  const torch::Tensor labelled = masked.labels != kPaddingId;
  LabelledPositions positions{output.index({labelled}), masked.labels.masked_select(labelled),
                              slot_keys(batch.session_ids, labelled.size(1)).masked_select(labelled)};
  const int64_t count = positions.labels.size(0);
  return {loss_->forward(positions, input_->item_table(), seed), count, 1, {}};
}

torch::Tensor SequentialRecommenderImpl::query_states(const Batch& batch) {
  const MaskedBatch masked = masking_->inference(batch);
  const torch::Tensor output = encode(masked);
  const torch::Tensor rows = torch::arange(output.size(0), masked.query.options());
  return output.index({rows, masked.query});
}

torch::Tensor next_item_scores(RecommenderImpl& recommender, const Batch& batch) {
  auto* table = dynamic_cast<LocalEmbeddingTableImpl*>(&recommender.item_table());
  if (table == nullptr) fail("next_item_scores needs a local item table; a sharded one ranks with top_k");
  torch::Tensor scores = recommender.query_states(batch).matmul(table->weight().t());
  scores.slice(1, 0, kFirstRealId).fill_(-std::numeric_limits<float>::infinity());
  return scores;
}

}  // namespace seqrec::model
