#include "seqrec/train/train_step.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "seqrec/core/rng.h"

namespace seqrec::train {

namespace {

// Streams of derive_seed, so that no two kinds of draw share one (trainer.cpp has a third).
constexpr uint64_t kStepStream = 1;
constexpr uint64_t kDropoutStream = 2;

}  // namespace

uint64_t step_seed(uint64_t run_seed, int64_t step) {
  return derive_seed(run_seed, {kStepStream, static_cast<uint64_t>(step)});
}

uint64_t dropout_seed(uint64_t run_seed, int rank) {
  return derive_seed(run_seed, {kDropoutStream, static_cast<uint64_t>(rank)});
}

StepOutcome train_step(model::RecommenderImpl& model, const Batch& share, uint64_t seed,
                       DistributedOptimizer& optimizer, comm::Communicator& comm) {
  const model::LossOutput out = model.training_loss(share, seed);
  // Every term's loss sum and count of all ranks in one small all-reduce: each mean
  // divides by its global count, and a non-finite loss on any rank is seen on all of them.
  std::vector<double> local{out.loss_sum.item<double>(), static_cast<double>(out.labels)};
  for (const model::TaskLoss& task : out.tasks) {
    local.push_back(task.loss_sum.item<double>());
    local.push_back(static_cast<double>(task.count));
  }
  const torch::Tensor totals = torch::tensor(local, torch::kFloat64);
  comm.all_reduce(totals, comm::ReduceOp::Sum);
  const auto divisor = [&](size_t term) { return std::max(1.0, totals[2 * term + 1].item<double>()); };
  StepOutcome outcome;
  outcome.labels = static_cast<int64_t>(totals[1].item<double>());
  // Divided first, then weighted: a next-item model (weight 1) steps exactly as it always did.
  outcome.loss = totals[0].item<double>() / divisor(0) * out.weight;
  torch::Tensor objective = out.loss_sum / divisor(0) * out.weight;
  for (size_t t = 0; t < out.tasks.size(); ++t) {
    const double mean = totals[2 * (t + 1)].item<double>() / divisor(t + 1);
    outcome.task_losses[out.tasks[t].name] = mean;
    outcome.loss += out.tasks[t].weight * mean;
    objective = objective + out.tasks[t].loss_sum / divisor(t + 1) * out.tasks[t].weight;
  }
  if (!std::isfinite(outcome.loss)) {
    optimizer.skip();
    outcome.skipped = true;
    return outcome;
  }
  // Summed over ranks by the optimizer, these gradients are those of the global objective.
  objective.backward();
  optimizer.step();
  return outcome;
}

}  // namespace seqrec::train
