// Losses of predicting items from the body's outputs at the labelled slots.
//
// The positions come with their hidden states [N, d], the items to predict [N] (ids >=
// kFirstRealId) and a key each (session and slot) that keys their random draws. Items
// are scored through the tied item table: an item's logit is its row's dot product with
// the hidden state. Each loss returns the SUM over the N positions, so that a step spread
// over ranks can divide by the global number of positions; N may be zero, and the loss
// still reads the table, because on a sharded table every rank must join each lookup.
#pragma once

#include <cstdint>
#include <memory>

#include <torch/torch.h>

#include "seqrec/model/embedding_table.h"

namespace seqrec::model {

struct LabelledPositions {
  torch::Tensor hidden;  // [N, d]
  torch::Tensor labels;  // [N] int64
  torch::Tensor keys;    // [N] int64, see slot_keys
};

class ItemLossImpl : public torch::nn::Module {
 public:
  // seed: this step's, shared by all ranks.
  virtual torch::Tensor forward(const LabelledPositions& positions, EmbeddingTableImpl& items, uint64_t seed) = 0;
};

// Cross-entropy of a softmax over every real item, with optional label smoothing.
class FullSoftmaxLossImpl : public ItemLossImpl {
 public:
  explicit FullSoftmaxLossImpl(double label_smoothing);
  torch::Tensor forward(const LabelledPositions& positions, EmbeddingTableImpl& items, uint64_t seed) override;

 private:
  double label_smoothing_;
};

// Softmax over each label and `negatives` items drawn from a sampling distribution q [V]:
// fresh ones for every position (per_position, as gSASRec and RecTools draw them), or one
// set shared by all positions of the step (cheaper: K rows instead of N * K). Either way
// the draws are keyed, so every rank draws what one rank would. A negative equal to the
// position's label is masked out, and every logit is corrected by -log q(item) so that
// frequently drawn items are not over-penalised (constant under uniform sampling).
class SampledSoftmaxLossImpl : public ItemLossImpl {
 public:
  SampledSoftmaxLossImpl(torch::Tensor sampling_distribution, int64_t negatives, bool per_position);
  torch::Tensor forward(const LabelledPositions& positions, EmbeddingTableImpl& items, uint64_t seed) override;

 private:
  torch::Tensor log_q_;
  torch::Tensor cdf_;
  int64_t negatives_;
  bool per_position_;
};

// The rows a loss with sampled negatives scores: the labels' and the negatives'.
struct SampledRows {
  torch::Tensor negatives;      // ids: [N, K] fresh per position, or [K] shared by the step
  torch::Tensor label_rows;     // [N, d]
  torch::Tensor negative_rows;  // [N, K, d] or [K, d]
};

// Draws `negatives` items per position (or, not per_position, one set for all) from the
// distribution's cdf, keyed by (position key, index) or by the index alone, so that every
// rank draws the same ones, and looks them up with the labels in one lookup.
SampledRows draw_negatives(const LabelledPositions& positions, EmbeddingTableImpl& items, const torch::Tensor& cdf,
                           int64_t negatives, bool per_position, uint64_t seed);

// [N, K]: each position's score of each of its negatives, shared (ids [K], rows [K, d])
// or its own (ids [N, K], rows [N, K, d]).
torch::Tensor negative_scores(const torch::Tensor& hidden, const torch::Tensor& negatives,
                              const torch::Tensor& negative_rows);

// [N, K]: where a negative is the position's own label.
torch::Tensor accidental_hits(const torch::Tensor& labels, const torch::Tensor& negatives);

// The sampled softmax loss (sum over positions) given the rows of the labels [N, d], the
// negatives' ids, shared [K] or per position [N, K], their rows ([K, d] or [N, K, d]),
// and log q [V].
torch::Tensor sampled_softmax_loss(const torch::Tensor& hidden, const torch::Tensor& labels,
                                   const torch::Tensor& label_rows, const torch::Tensor& negatives,
                                   const torch::Tensor& negative_rows, const torch::Tensor& log_q);

// The original SASRec loss: binary cross-entropy of each label against one negative
// drawn for its position from the sampling distribution.
class BinaryCrossEntropyLossImpl : public ItemLossImpl {
 public:
  explicit BinaryCrossEntropyLossImpl(torch::Tensor sampling_distribution);
  torch::Tensor forward(const LabelledPositions& positions, EmbeddingTableImpl& items, uint64_t seed) override;

 private:
  torch::Tensor cdf_;
};

// The ranking losses of GRU4Rec (Hidasi & Karatzoglou, "Recurrent Neural Networks with
// Top-k Gains for Session-based Recommendations", 2018) over sampled negatives. Each
// negative j of a position weighs s_j, the softmax of the negatives' scores r_j (accidental
// hits left out), so that the loss dwells on the negatives ranked highest:
//   BPR-max:  -log sum_j s_j sigmoid(r_i - r_j) + lambda sum_j s_j r_j^2
//   TOP1-max: sum_j s_j (sigmoid(r_j - r_i) + sigmoid(r_j^2))
// with r_i the label's score. A position whose every negative is its label adds nothing.
enum class RankingMax { Bpr, Top1 };

class RankingMaxLossImpl : public ItemLossImpl {
 public:
  // bpr_regularization: lambda, BPR-max only.
  RankingMaxLossImpl(RankingMax kind, torch::Tensor sampling_distribution, int64_t negatives, bool per_position,
                     double bpr_regularization);
  torch::Tensor forward(const LabelledPositions& positions, EmbeddingTableImpl& items, uint64_t seed) override;

 private:
  RankingMax kind_;
  torch::Tensor cdf_;
  int64_t negatives_;
  bool per_position_;
  double bpr_regularization_;
};

// The losses summed over positions, given the labels' scores [N], the negatives' [N, K]
// and the negatives to leave out [N, K] (accidental hits).
torch::Tensor bpr_max_loss(const torch::Tensor& positive, const torch::Tensor& negative, const torch::Tensor& excluded,
                           double regularization);
torch::Tensor top1_max_loss(const torch::Tensor& positive, const torch::Tensor& negative,
                            const torch::Tensor& excluded);

// A loss whose scores are divided by a temperature T: the hidden states are, which divides
// every item's score, the label's and the negatives' alike, before any correction the loss
// adds (logQ). T < 1 sharpens the softmax, T > 1 flattens it. Rankings do not change, so
// inference needs no temperature.
class TemperedLossImpl : public ItemLossImpl {
 public:
  TemperedLossImpl(std::shared_ptr<ItemLossImpl> loss, double temperature);
  torch::Tensor forward(const LabelledPositions& positions, EmbeddingTableImpl& items, uint64_t seed) override;

 private:
  std::shared_ptr<ItemLossImpl> loss_;
  double temperature_;
};

// [V]: uniform over the real items, zero on the reserved ids.
torch::Tensor uniform_item_distribution(int64_t cardinality);

// [V] float64 running sum of a distribution, for sample_items.
torch::Tensor distribution_cdf(const torch::Tensor& distribution);

}  // namespace seqrec::model
