// Losses of predicting items from the body's outputs at the labelled slots.
//
// hidden [N, d] are the outputs, labels [N] the items to predict (ids >= kFirstRealId),
// items [V, d] the tied item table: an item's logit is its dot product with the output.
// Each loss is the mean over the N positions.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace seqrec::model {

class ItemLossImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& labels,
                                const torch::Tensor& items) = 0;
};

// Cross-entropy of a softmax over every real item, with optional label smoothing.
class FullSoftmaxLossImpl : public ItemLossImpl {
 public:
  explicit FullSoftmaxLossImpl(double label_smoothing);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& labels, const torch::Tensor& items) override;

 private:
  double label_smoothing_;
};

// Softmax over each label and `negatives` items drawn per step from a sampling
// distribution q [V] (shared by all positions of the step). A negative equal to the
// position's label is masked out, and every logit is corrected by -log q(item) so that
// frequently drawn items are not over-penalised (constant under uniform sampling).
class SampledSoftmaxLossImpl : public ItemLossImpl {
 public:
  SampledSoftmaxLossImpl(torch::Tensor sampling_distribution, int64_t negatives);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& labels, const torch::Tensor& items) override;

 private:
  torch::Tensor distribution_;
  int64_t negatives_;
};

// The sampled softmax loss for given negatives [K] and log q [V].
torch::Tensor sampled_softmax_loss(const torch::Tensor& hidden, const torch::Tensor& labels, const torch::Tensor& items,
                                   const torch::Tensor& negatives, const torch::Tensor& log_q);

// The original SASRec loss: binary cross-entropy of each label against one negative
// drawn for its position from the sampling distribution.
class BinaryCrossEntropyLossImpl : public ItemLossImpl {
 public:
  explicit BinaryCrossEntropyLossImpl(torch::Tensor sampling_distribution);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& labels, const torch::Tensor& items) override;

 private:
  torch::Tensor distribution_;
};

// [V]: uniform over the real items, zero on the reserved ids.
torch::Tensor uniform_item_distribution(int64_t cardinality);

}  // namespace seqrec::model
