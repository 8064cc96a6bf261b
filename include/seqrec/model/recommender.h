// What training and evaluation need of a model, whatever its body and objective.
//
// The model owns its masking (CLM, MLM, ...) and its loss; it knows nothing of ranks.
// Its embedding tables come from a TableFactory: local ones here, row-sharded ones from
// the parallel layer. Items are scored through the item table, the tied output layer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "seqrec/data/batch.h"
#include "seqrec/data/schema.h"
#include "seqrec/model/embedding_table.h"
#include "seqrec/model/session_tasks.h"

namespace seqrec::model {

struct ModelOptions {
  std::string body = "sasrec";        // sasrec | sse-pt | transformer | gru4rec | hstu | xlnet | electra
  std::string masking = "clm";        // clm | mlm (transformer only) | plm (xlnet only) | rtd (electra only)
  std::string loss = "ce";            // ce (full softmax) | sampled | bce | bpr-max | top1-max
  int64_t d_model = 64;
  int64_t layers = 2;
  int64_t heads = 1;
  int64_t d_ff = 0;                   // 0: the body's default (sasrec d_model, transformer and xlnet 4 * d_model)
  double dropout = 0.2;
  int64_t max_seq_len = 50;
  int64_t negatives = 256;            // sampled, bpr-max, top1-max: negatives drawn (bce draws one per position)
  std::string negative_sharing = "position";  // as negatives: position (fresh per position) | step (shared)
  double bpr_reg = 1.0;               // loss=bpr-max: lambda of its score regularisation
  double mlm_probability = 0.2;
  double plm_probability = 1.0 / 6;   // plm: share of each session's events predicted (XLNet's)
  int64_t max_span_length = 5;        // plm: longest span of neighbouring events predicted together
  double rtd_weight = 50.0;           // rtd: lambda, the discriminator loss's weight
  std::string rtd_share = "all";      // rtd: all (one body) | embeddings (a body each, one input block)
  // rtd_share=embeddings: the generator's blocks, 0 for model.layers. The generator is what
  // ranks, so it defaults to full size; fewer gives ELECTRA's weaker generator.
  int64_t generator_layers = 0;
  double label_smoothing = 0.0;       // loss=ce only
  bool use_side_features = true;      // false: item ids only
  // concat (+ projection to d_model) | element-wise-sum | element-wise-sum-item-multi (item
  // embedding times the sum of the side features' vectors)
  std::string aggregation = "concat";
  // Side feature name -> embedding size under concat; absent: min(d_model, round(6 * cardinality^0.25))
  // for categorical features, 8 for continuous ones. Element-wise-sum uses d_model throughout.
  std::map<std::string, int64_t> feature_dims;
  std::string multi_value_pooling = "mean";  // mean | sum of a multi-valued categorical's embeddings
  std::string continuous_encoding = "linear"; // scalar (concat only) | linear | mlp | soft-one-hot
  int64_t soft_one_hot_bins = 16;     // continuous_encoding=soft-one-hot: bins, each with its embedding
  bool feature_norm = false;          // layer norm on each side feature's vector
  double feature_dropout = 0.0;       // dropout on each side feature's vector
  double temperature = 1.0;           // item scores divided by it in the training loss
  double swap_probability = 0.0;      // stochastic shared embeddings: input items swapped for random ones
  double user_swap_probability = 0.0; // the same for the user-id feature (prepare --user-id-feature)
  std::string norm = "pre";           // transformer, xlnet: pre | post (layer norm before/after each sublayer)
  std::string activation = "gelu";    // transformer, xlnet: gelu | relu
  uint64_t seed = 42;                 // of the embedding tables' initial rows
  // What the model learns (session_tasks.h): next-item, classify:FEATURE, regress:FEATURE;
  // their weights in the loss in the same order (empty: all 1); which body outputs
  // summarise a session for its heads: last | first | mean (session_summary.h).
  std::vector<std::string> tasks = {"next-item"};
  std::vector<double> task_weights;
  std::string summary = "last";
};

// A session-level task's share of a batch's loss.
struct TaskLoss {
  std::string name;        // the task's feature
  torch::Tensor loss_sum;  // scalar: SUM over the batch's sessions with a known target
  int64_t count = 0;       // those sessions
  double weight = 1;
};

// The training loss is a weighted sum of means, each over all ranks:
//   weight * sum(loss_sum) / sum(labels) + sum over tasks of task.weight * sum(task.loss_sum) / sum(task.count)
// (sums over ranks; a zero count counts as 1). Each rank hands over SUMS and counts and
// the step divides by the global counts, so N ranks train what one rank trains.
struct LossOutput {
  torch::Tensor loss_sum;  // scalar: SUM over the labelled positions of this batch
  int64_t labels = 0;      // labelled positions it summed over
  double weight = 1;       // of the next-item term
  std::vector<TaskLoss> tasks;  // session-level tasks, none for a next-item model
};

class RecommenderImpl : public torch::nn::Module {
 public:
  // Applies the objective's masking to a training batch and returns its loss. `seed` is
  // the step's: masks and negatives are keyed by it and by session and slot, so they do
  // not depend on which rank holds a session. Dropout draws from torch's generator.
  virtual LossOutput training_loss(const Batch& batch, uint64_t seed) = 0;
  // What scores each session's next item: [B, d], to rank against item_table().
  virtual torch::Tensor query_states(const Batch& batch) = 0;
  virtual EmbeddingTableImpl& item_table() = 0;
  // Session-level tasks besides the next item (session_tasks.h), none by default.
  virtual std::vector<SessionTask> session_tasks() const { return {}; }
  // Each session task's prediction for every session of a batch, by feature (see
  // SessionHeadsImpl::predictions). The batch's values of those features are never read.
  virtual std::map<std::string, torch::Tensor> session_predictions(const Batch&) { return {}; }
};
TORCH_MODULE(Recommender);

// UserError naming the option for an unknown body, masking or loss, or a pairing the
// body cannot train (listing the valid choices).
Recommender build_recommender(const ModelOptions& options, const Schema& schema,
                              const TableFactory& tables = make_local_table);

// Scores of every item as the next event after each session, [B, V], reserved ids -inf.
// Whole score matrices suit small catalogs and tests; needs a local item table.
torch::Tensor next_item_scores(RecommenderImpl& recommender, const Batch& batch);

}  // namespace seqrec::model
