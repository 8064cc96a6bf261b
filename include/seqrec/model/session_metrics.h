// Evaluation metrics of session-level tasks (session_tasks.h), accumulated over batches
// and combined across ranks like RankingMetrics.
//
// classify: "<feature>/accuracy" (the arg-max class; binary: logit > 0), "<feature>/log_loss"
// (natural log, mean over sessions) and, binary only, "<feature>/auc" (exact, ties count
// one half; NaN when one class is absent). regress: "<feature>/rmse" and "<feature>/mae"
// in the feature's units. Sessions with an unknown target count in none of them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "seqrec/model/session_tasks.h"

namespace seqrec::model {

// Area under the ROC curve of scores [n] for labels [n] (1 positive, 0 negative):
// the probability that a positive scores above a negative, ties one half.
double binary_auc(const torch::Tensor& scores, const torch::Tensor& labels);

// Whether a smaller value of a metric (of any kind: ranking, session task) is better.
bool lower_is_better(const std::string& metric);

class SessionTaskMetrics {
 public:
  explicit SessionTaskMetrics(SessionTask task);

  // prediction: the task's entry of session_predictions; values: the batch's column of
  // the task's feature [B].
  void add(const torch::Tensor& prediction, const torch::Tensor& values);

  // Sums and counts, to be all-reduced across ranks.
  std::vector<double> sums() const { return sums_; }
  void set_sums(const std::vector<double>& sums);
  // Binary tasks: this rank's [n, 2] float64 rows (score, label), to gather across ranks
  // for the AUC; set_scored takes all ranks' rows. Empty for other tasks.
  torch::Tensor scored() const;
  void set_scored(const torch::Tensor& rows);

  std::map<std::string, double> results() const;
  const SessionTask& task() const { return task_; }

 private:
  bool binary() const { return task_.kind == TaskKind::Classify && task_.outputs == 1; }

  SessionTask task_;
  std::vector<double> sums_;  // count; classify: correct, log loss; regress: squared, absolute error
  std::vector<torch::Tensor> scored_;
};

}  // namespace seqrec::model
