#include "seqrec/model/session_heads.h"

#include <utility>

namespace seqrec::model {

TaskTargets task_targets(const SessionTask& task, const torch::Tensor& values) {
  if (task.kind == TaskKind::Regress) {
    const torch::Tensor v = values.to(torch::kFloat32);
    const torch::Tensor known = torch::isfinite(v);
    return {known, ((v - task.mean) / task.stddev).masked_fill(known.logical_not(), 0)};
  }
  const torch::Tensor ids = values.to(torch::kInt64);
  const torch::Tensor known = ids >= kFirstRealId;
  const torch::Tensor index = (ids - kFirstRealId).clamp_min(0);
  return {known, task.outputs == 1 ? index.to(torch::kFloat32) : index};
}

SessionHeadsImpl::SessionHeadsImpl(std::vector<SessionTask> tasks, int64_t d_model) : tasks_(std::move(tasks)) {
  // Named by position, not by feature: parameter names stay valid HDF5 paths whatever
  // the features are called; the model file records the tasks in order.
  for (size_t i = 0; i < tasks_.size(); ++i) {
    heads_.push_back(register_module(
        "head_" + std::to_string(i),
        torch::nn::Sequential(torch::nn::Linear(d_model, d_model), torch::nn::ReLU(),
                              torch::nn::Linear(d_model, tasks_[i].outputs))));
  }
}

torch::Tensor SessionHeadsImpl::output(size_t i, const torch::Tensor& summary) { return heads_[i]->forward(summary); }

std::vector<TaskLoss> SessionHeadsImpl::losses(const torch::Tensor& summary,
                                               const std::map<std::string, torch::Tensor>& features) {
  std::vector<TaskLoss> out;
  for (size_t i = 0; i < tasks_.size(); ++i) {
    const SessionTask& task = tasks_[i];
    const TaskTargets t = task_targets(task, features.at(task.feature));
    // Every session goes through the head, so that a batch without known targets still
    // gives every head parameter a (zero) gradient.
    const torch::Tensor y = output(i, summary);
    torch::Tensor per_session;
    if (task.kind == TaskKind::Regress) {
      per_session = (y.squeeze(-1) - t.target).pow(2);
    } else if (task.outputs == 1) {
      per_session = torch::binary_cross_entropy_with_logits(y.squeeze(-1), t.target, {}, {}, at::Reduction::None);
    } else {
      per_session = torch::cross_entropy_loss(y, t.target, {}, at::Reduction::None);
    }
    out.push_back({task.feature, (per_session * t.known.to(per_session.scalar_type())).sum(),
                   t.known.sum().item<int64_t>(), task.weight});
  }
  return out;
}

std::map<std::string, torch::Tensor> SessionHeadsImpl::predictions(const torch::Tensor& summary) {
  std::map<std::string, torch::Tensor> out;
  for (size_t i = 0; i < tasks_.size(); ++i) {
    const SessionTask& task = tasks_[i];
    const torch::Tensor y = output(i, summary);
    if (task.kind == TaskKind::Regress) {
      out[task.feature] = y.squeeze(-1) * task.stddev + task.mean;
    } else {
      out[task.feature] = task.outputs == 1 ? y.squeeze(-1) : y;
    }
  }
  return out;
}

}  // namespace seqrec::model
