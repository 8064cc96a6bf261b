#include "seqrec/model/sequential_recommender.h"

#include <limits>
#include <utility>

namespace seqrec::model {

SequentialRecommenderImpl::SequentialRecommenderImpl(InputBlock input, std::shared_ptr<SequenceBodyImpl> body,
                                                     std::unique_ptr<Masking> masking,
                                                     std::shared_ptr<ItemLossImpl> loss)
    : masking_(std::move(masking)) {
  input_ = register_module("input", std::move(input));
  body_ = register_module("body", std::move(body));
  loss_ = register_module("loss", std::move(loss));
}

torch::Tensor SequentialRecommenderImpl::encode(const MaskedBatch& masked) {
  return body_->forward(input_(masked.features, masked.mask, masked.hidden), masked.mask);
}

LossOutput SequentialRecommenderImpl::training_loss(const Batch& batch) {
  const MaskedBatch masked = masking_->training(batch);
  const torch::Tensor output = encode(masked);
  // Only labelled slots reach the item table: a fraction of B * L under mlm.
  const torch::Tensor labelled = masked.labels != kPaddingId;
  const torch::Tensor labels = masked.labels.masked_select(labelled);
  const int64_t count = labels.size(0);
  // A batch without labels still goes through backward, so every rank's step matches.
  if (count == 0) return {output.sum() * 0.0, 0};
  return {loss_->forward(output.index({labelled}), labels, input_->item_table()), count};
}

torch::Tensor SequentialRecommenderImpl::next_item_scores(const Batch& batch) {
  const MaskedBatch masked = masking_->inference(batch);
  const torch::Tensor output = encode(masked);
  const torch::Tensor rows = torch::arange(output.size(0), masked.query.options());
  torch::Tensor scores = output.index({rows, masked.query}).matmul(input_->item_table().t());
  scores.slice(1, 0, kFirstRealId).fill_(-std::numeric_limits<float>::infinity());
  return scores;
}

}  // namespace seqrec::model
