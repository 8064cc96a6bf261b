// The heads of session-level tasks (session_tasks.h): one small MLP per task on the
// session summary (d_model -> d_model, ReLU -> the task's outputs), and their losses.
//
// Losses are SUMS over the sessions with a known target, with that count, so that the
// training step divides them by a count summed over ranks (recommender.h): binary
// cross-entropy with logits, softmax cross-entropy, or squared error of the standardised
// target.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "seqrec/model/recommender.h"
#include "seqrec/model/session_tasks.h"

namespace seqrec::model {

// The sessions of `values` (a batch's column of the task's feature, [B]) whose target is
// known: {known [B] bool, target [B]}. The target is the class index (int64, 0-based over
// the real values; binary: float 0/1, 1 for the second real value) or the value
// standardised with the task's mean and stddev (float32).
struct TaskTargets {
  torch::Tensor known;
  torch::Tensor target;
};
TaskTargets task_targets(const SessionTask& task, const torch::Tensor& values);

class SessionHeadsImpl : public torch::nn::Module {
 public:
  SessionHeadsImpl(std::vector<SessionTask> tasks, int64_t d_model);

  // summary [B, d] and the batch's features (each task's column read as its target).
  std::vector<TaskLoss> losses(const torch::Tensor& summary, const std::map<std::string, torch::Tensor>& features);
  // By feature: classify -> logits [B] (binary) or [B, classes]; regress -> the value in
  // the feature's units [B].
  std::map<std::string, torch::Tensor> predictions(const torch::Tensor& summary);

  const std::vector<SessionTask>& tasks() const { return tasks_; }

 private:
  // The raw output of task i: [B, outputs] (regress: standardised).
  torch::Tensor output(size_t i, const torch::Tensor& summary);

  std::vector<SessionTask> tasks_;
  std::vector<torch::nn::Sequential> heads_;
};
TORCH_MODULE(SessionHeads);

}  // namespace seqrec::model
