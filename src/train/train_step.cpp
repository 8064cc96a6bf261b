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
                       DistributedOptimizer& optimizer, comm::Communicator& comm, Precision precision) {
  const model::LossOutput out = [&] {
    const AutocastScope autocast(comm.device(), precision);
    return model.training_loss(share, seed);
  }();
  // Every term's loss sum and count of all ranks in one small all-reduce, queued on the
  // device like the rest of the step: each mean divides by its global count, and a
  // non-finite loss on any rank is seen on all of them.
  const auto term = [&](const torch::Tensor& loss_sum, int64_t count) {
    return torch::stack({loss_sum.detach().to(torch::kFloat64),
                         torch::full({}, static_cast<double>(count), loss_sum.options().dtype(torch::kFloat64))});
  };
  std::vector<torch::Tensor> terms{term(out.loss_sum, out.labels)};
  for (const model::TaskLoss& task : out.tasks) terms.push_back(term(task.loss_sum, task.count));
  const torch::Tensor totals = torch::cat(terms);
  comm.all_reduce(totals, comm::ReduceOp::Sum);
  const torch::Tensor divisors = totals.slice(0, 1, totals.size(0), 2).clamp_min(1).to(torch::kFloat32);
  // Divided first, then weighted: a next-item model (weight 1) steps exactly as it always did.
  torch::Tensor objective = out.loss_sum / divisors[0] * out.weight;
  for (size_t t = 0; t < out.tasks.size(); ++t) {
    objective = objective + out.tasks[t].loss_sum / divisors[static_cast<int64_t>(t) + 1] * out.tasks[t].weight;
  }
  // Summed over ranks by the optimizer, these gradients are those of the global objective.
  // Backward runs before the loss is known to be finite: reading it first would make the
  // host wait for the forward pass with the GPU then idle until backward is queued.
  objective.backward();

  // The step's one wait for the device: whether to update depends on the loss.
  const torch::Tensor host = totals.to(torch::kCPU);
  const auto value = host.accessor<double, 1>();
  const auto divisor = [&](size_t t) { return std::max(1.0, value[static_cast<int64_t>(2 * t + 1)]); };
  StepOutcome outcome;
  outcome.labels = static_cast<int64_t>(value[1]);
  outcome.loss = value[0] / divisor(0) * out.weight;
  for (size_t t = 0; t < out.tasks.size(); ++t) {
    const double mean = value[static_cast<int64_t>(2 * (t + 1))] / divisor(t + 1);
    outcome.task_losses[out.tasks[t].name] = mean;
    outcome.loss += out.tasks[t].weight * mean;
  }
  if (!std::isfinite(outcome.loss)) {
    optimizer.skip();
    outcome.skipped = true;
    return outcome;
  }
  optimizer.step();
  return outcome;
}

}  // namespace seqrec::train
