// Adam with decoupled weight decay (AdamW) for a row-sparse table, lazily: a step moves
// the moments, the step count and the values of the touched rows only.
//
// Bias correction uses each row's own step count (int64 [rows]): a row's moments have
// averaged only the steps it was touched in, so correcting by the global step would
// over-correct rows that are rarely touched (1 - beta^t with t too large is ~1, leaving
// their first updates damped towards zero). A row thus moves as it would under AdamW
// applied on the steps it was touched in. Weight decay, too, reaches only touched rows.
//
// With every row touched on every step, the result on the CPU is bit for bit that of
// torch::optim::AdamW (amsgrad off) on the whole table: the same operations in the same
// order (decay, moments, denom = sqrt(v) / sqrt(1 - beta2^t) + eps, step lr / (1 - beta1^t)),
// with the per-row corrections computed in double by std::pow as AdamW does and rounded to
// the table's dtype as AdamW's scalars are. (CUDA kernels divide by a scalar through its
// reciprocal but by a tensor exactly, so there the two agree to rounding.)
#pragma once

#include "seqrec/parallel/row_sparse_optimizer.h"

namespace seqrec::parallel {

struct RowSparseAdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // decoupled: w -= lr * weight_decay * w
};

class RowSparseAdam final : public RowSparseOptimizer {
 public:
  RowSparseAdam(torch::Tensor parameter, const RowSparseAdamOptions& options);

  void step(const torch::Tensor& touched_rows) override;
  // exp_avg, exp_avg_sq (like the table), step (int64 [rows]).
  std::vector<std::pair<std::string, torch::Tensor>> state() override;

 private:
  RowSparseAdamOptions options_;
  torch::Tensor exp_avg_;
  torch::Tensor exp_avg_sq_;
  torch::Tensor steps_;
};

}  // namespace seqrec::parallel
