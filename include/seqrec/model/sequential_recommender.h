// The recommender every body and objective share: input block -> body -> scores against
// the tied item table, trained under the objective's masking with an item loss.
#pragma once

#include <memory>
#include <string>

#include <torch/torch.h>

#include "seqrec/model/input_block.h"
#include "seqrec/model/item_loss.h"
#include "seqrec/model/masking.h"
#include "seqrec/model/recommender.h"
#include "seqrec/model/sequence_body.h"
#include "seqrec/model/stochastic_shared_embeddings.h"
#include "seqrec/model/session_heads.h"
#include "seqrec/model/session_summary.h"

namespace seqrec::model {

class SequentialRecommenderImpl : public RecommenderImpl {
 public:
  // time_feature: the sequence feature of event times handed to the body, empty for none.
  // swap: stochastic shared embeddings on the inputs in training.
  SequentialRecommenderImpl(InputBlock input, std::shared_ptr<SequenceBodyImpl> body, std::unique_ptr<Masking> masking,
                            std::shared_ptr<ItemLossImpl> loss, std::string time_feature = {},
                            SwapOptions swap = {});

  LossOutput training_loss(const Batch& batch, uint64_t seed) override;
  torch::Tensor query_states(const Batch& batch) override;
  EmbeddingTableImpl& item_table() override { return input_->item_table(); }
  std::vector<SessionTask> session_tasks() const override;
  std::map<std::string, torch::Tensor> session_predictions(const Batch& batch) override;

  // Session-level heads (their features must be withheld from `input`) on the summary of
  // the body's outputs, and the weight of the next-item loss (0: not computed).
  void add_session_heads(const TaskPlan& plan, SessionSummary summary, int64_t d_model);

  // The body's output at every slot of a masked batch: [B, L, d_model]; under a
  // factorisation order (plm), its query stream's.
  torch::Tensor encode(const MaskedBatch& masked);
  const Masking& masking() const { return *masking_; }

 protected:
  // As encode, through another body over the same input block.
  torch::Tensor encode(SequenceBodyImpl& body, const MaskedBatch& masked);
  // The item loss at the labelled slots of a training batch, given the body's output.
  LossOutput item_loss(const Batch& batch, const MaskedBatch& masked, const torch::Tensor& output, uint64_t seed);
  // Stochastic shared embeddings: swaps what the body will see of a masked training batch.
  void swap_inputs(const Batch& batch, MaskedBatch& masked, uint64_t seed);
  SequenceBodyImpl& body() { return *body_; }

 private:
  InputBlock input_{nullptr};
  std::shared_ptr<SequenceBodyImpl> body_;
  std::unique_ptr<Masking> masking_;
  std::shared_ptr<ItemLossImpl> loss_;
  std::string time_feature_;
  SwapOptions swap_;
  double next_item_weight_ = 1;
  SessionHeads heads_{nullptr};
  SessionSummary summary_ = SessionSummary::Last;
};

}  // namespace seqrec::model
