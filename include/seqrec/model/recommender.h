// What training and evaluation need of a model, whatever its body and objective.
//
// The model owns its masking (CLM, MLM, ...) and its loss; it knows nothing of ranks.
// Scores are over the whole item vocabulary (ids 0..V-1, reserved ids scored -inf).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <torch/torch.h>

#include "seqrec/data/batch.h"
#include "seqrec/data/schema.h"

namespace seqrec::model {

struct ModelOptions {
  std::string body = "sasrec";        // sasrec | transformer
  std::string masking = "clm";        // clm | mlm (transformer only)
  std::string loss = "ce";            // ce (full softmax) | sampled | bce
  int64_t d_model = 64;
  int64_t layers = 2;
  int64_t heads = 1;
  int64_t d_ff = 0;                   // 0: the body's default (sasrec d_model, transformer 4 * d_model)
  double dropout = 0.2;
  int64_t max_seq_len = 50;
  int64_t negatives = 256;            // loss=sampled: negatives per step (bce draws one per position)
  double mlm_probability = 0.2;
  double label_smoothing = 0.0;       // loss=ce only
  bool use_side_features = true;      // false: item ids only
  std::string aggregation = "concat"; // concat (+ projection to d_model) | element-wise-sum
  // Side feature name -> embedding size under concat; absent: min(d_model, round(6 * cardinality^0.25))
  // for categorical features, 8 for continuous ones. Element-wise-sum uses d_model throughout.
  std::map<std::string, int64_t> feature_dims;
  std::string norm = "pre";           // transformer: pre | post (layer norm before/after each sublayer)
  std::string activation = "gelu";    // transformer: gelu | relu
};

struct LossOutput {
  torch::Tensor loss;     // scalar: mean over the labelled positions of this batch
  int64_t labels = 0;     // labelled positions it averaged over
};

class RecommenderImpl : public torch::nn::Module {
 public:
  // Applies the objective's masking to a training batch and returns its loss.
  virtual LossOutput training_loss(const Batch& batch) = 0;
  // Scores of every item as the next event after each session: [B, V].
  virtual torch::Tensor next_item_scores(const Batch& batch) = 0;
};
TORCH_MODULE(Recommender);

// UserError naming the option for an unknown body, masking or loss, or a pairing the
// body cannot train (listing the valid choices).
Recommender build_recommender(const ModelOptions& options, const Schema& schema);

}  // namespace seqrec::model
