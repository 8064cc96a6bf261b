#include "seqrec/model/session_tasks.h"

#include <cmath>
#include <set>

#include "seqrec/core/error.h"

namespace seqrec::model {

namespace {

constexpr const char* kNextItem = "next-item";

std::string context_feature_names(const Schema& schema) {
  std::string names;
  for (const FeatureSpec& f : schema.context_features()) names += (names.empty() ? "" : ", ") + f.name;
  return names.empty() ? "none" : names;
}

SessionTask session_task(const std::string& task, const Schema& schema) {
  const size_t colon = task.find(':');
  const std::string kind = task.substr(0, colon);
  if (colon == std::string::npos || (kind != "classify" && kind != "regress")) {
    fail("model.tasks: unknown task '", task, "' (valid: next-item, classify:FEATURE, regress:FEATURE)");
  }
  SessionTask out;
  out.kind = kind == "classify" ? TaskKind::Classify : TaskKind::Regress;
  out.feature = task.substr(colon + 1);
  const FeatureSpec* f = schema.find(out.feature);
  if (f == nullptr || f->scope != FeatureScope::Context) {
    fail("model.tasks: '", task, "' needs a context (per-session) feature of the data set (context features: ",
         context_feature_names(schema), ")");
  }
  if (f->multi_valued()) fail("model.tasks: '", task, "': feature '", f->name, "' is multi-valued");
  if (out.kind == TaskKind::Classify) {
    const int64_t classes = f->cardinality - kFirstRealId;
    if (f->kind != FeatureKind::Categorical || classes < 2) {
      fail("model.tasks: '", task, "' needs a categorical feature with at least two real values ('", f->name,
           "' is ", to_string(f->kind), f->kind == FeatureKind::Categorical ? " with " + std::to_string(classes) : "",
           f->kind == FeatureKind::Categorical ? " real values)" : ")");
    }
    out.outputs = classes == 2 ? 1 : classes;
  } else {
    if (f->kind != FeatureKind::Continuous) {
      fail("model.tasks: '", task, "' needs a continuous feature ('", f->name,
           "' is categorical; classify it, or prepare it with --user-continuous)");
    }
    // A feature prepared without statistics (or constant) keeps its own scale.
    out.mean = f->stats.mean;
    out.stddev = std::isfinite(f->stats.stddev) && f->stats.stddev > 0 ? f->stats.stddev : 1.0;
  }
  return out;
}

}  // namespace

TaskPlan plan_tasks(const std::vector<std::string>& tasks, const std::vector<double>& weights, const Schema& schema) {
  if (!weights.empty() && weights.size() != tasks.size()) {
    fail("model.task_weights: ", weights.size(), " weights for ", tasks.size(),
         " tasks (give one per model.tasks entry, or none for all 1)");
  }
  TaskPlan plan;
  bool next_item = false;
  std::set<std::string> features;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const double weight = weights.empty() ? 1.0 : weights[i];
    if (!(weight >= 0) || !std::isfinite(weight)) {
      fail("model.task_weights: weight of '", tasks[i], "' must be 0 or more (got ", weight, ")");
    }
    if (tasks[i] == kNextItem) {
      if (next_item) fail("model.tasks: next-item is listed twice");
      next_item = true;
      plan.next_item_weight = weight;
      continue;
    }
    SessionTask task = session_task(tasks[i], schema);
    if (!features.insert(task.feature).second) fail("model.tasks: feature '", task.feature, "' has two tasks");
    task.weight = weight;
    plan.sessions.push_back(task);
  }
  // The model is a recommender first: ranking, serving and the default monitor need it.
  if (!next_item) {
    fail("model.tasks: next-item must be one of the tasks (weight it 0 in model.task_weights to train the heads "
         "alone)");
  }
  double total = plan.next_item_weight;
  for (const SessionTask& task : plan.sessions) total += task.weight;
  if (total == 0) fail("model.task_weights: at least one task needs a weight above 0");
  return plan;
}

}  // namespace seqrec::model
