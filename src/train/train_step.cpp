#include "seqrec/train/train_step.h"

#include <algorithm>
#include <cmath>

namespace seqrec::train {

StepOutcome train_step(model::RecommenderImpl& model, const Batch& share, uint64_t seed,
                       DistributedOptimizer& optimizer, comm::Communicator& comm) {
  const model::LossOutput out = model.training_loss(share, seed);
  // The loss and label count of all ranks in one small all-reduce: the mean divides by
  // the global count, and a non-finite loss on any rank is seen on all of them.
  const torch::Tensor totals =
      torch::tensor({out.loss_sum.item<double>(), static_cast<double>(out.labels)}, torch::kFloat64);
  comm.all_reduce(totals, comm::ReduceOp::Sum);
  StepOutcome outcome;
  outcome.labels = static_cast<int64_t>(totals[1].item<double>());
  const double divisor = static_cast<double>(std::max<int64_t>(1, outcome.labels));
  outcome.loss = totals[0].item<double>() / divisor;
  if (!std::isfinite(outcome.loss)) {
    optimizer.skip();
    outcome.skipped = true;
    return outcome;
  }
  // Summed over ranks by the optimizer, these gradients are those of the global mean.
  (out.loss_sum / divisor).backward();
  optimizer.step();
  return outcome;
}

}  // namespace seqrec::train
