// What a model learns besides the next item: session-level tasks on one context
// (per-session) feature of the schema each, and the weights of every task in the loss.
//
// `--model.tasks next-item,classify:gender,regress:age` with `--model.task_weights
// 1,0.5,0.1`. classify: a categorical context feature, two real values (one logit,
// binary cross-entropy; the positive class is the second real id, kFirstRealId + 1, the
// less frequent value) or more (one logit per real value, softmax cross-entropy).
// regress: a continuous context feature, squared error on the value standardised with
// the schema's training-split statistics. A task's feature is withheld from the model's
// inputs: otherwise the model reads its answer. Sessions whose target is unknown
// (kUnknownId, kPaddingId) or not finite count in no task's loss or metric.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seqrec/data/schema.h"

namespace seqrec::model {

enum class TaskKind { Classify, Regress };

struct SessionTask {
  TaskKind kind = TaskKind::Classify;
  std::string feature;   // the context feature predicted; also the task's name in metrics
  int64_t outputs = 1;   // classify: 1 (binary) or the number of real values; regress: 1
  double weight = 1;     // in the combined loss
  double mean = 0;       // regress: the target is standardised with these
  double stddev = 1;
};

struct TaskPlan {
  double next_item_weight = 1;
  std::vector<SessionTask> sessions;
};

// UserError naming model.tasks / model.task_weights for an unknown task, a target that is
// not a suitable context feature, a feature named twice, a missing next-item, or a
// weight list of another length (empty: every weight 1) or with a negative weight.
TaskPlan plan_tasks(const std::vector<std::string>& tasks, const std::vector<double>& weights, const Schema& schema);

}  // namespace seqrec::model
