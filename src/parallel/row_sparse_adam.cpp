#include "seqrec/parallel/row_sparse_adam.h"

#include <cmath>

#include "seqrec/core/error.h"

namespace seqrec::parallel {

namespace {

// Per-row factors [n, 1] of AdamW's update for rows at step counts t [n]: sqrt(1 - beta2^t)
// and -lr / (1 - beta1^t). Computed for each distinct count in double with std::pow, as
// AdamW computes its scalars, then rounded to the table's dtype, as AdamW's scalars are.
struct BiasCorrections {
  torch::Tensor sqrt_correction2;
  torch::Tensor negative_step_size;
};

BiasCorrections bias_corrections(const torch::Tensor& steps, const RowSparseAdamOptions& options, double lr,
                                 const torch::TensorOptions& like) {
  const auto unique = torch::_unique(steps, /*sorted=*/true, /*return_inverse=*/true);
  const torch::Tensor counts = std::get<0>(unique).cpu();
  const torch::Tensor& which_count = std::get<1>(unique);  // per row, its index in counts
  const auto count = counts.accessor<int64_t, 1>();
  torch::Tensor sqrt_correction2 = torch::empty({counts.size(0)}, torch::kFloat64);
  torch::Tensor negative_step_size = torch::empty({counts.size(0)}, torch::kFloat64);
  auto root = sqrt_correction2.accessor<double, 1>();
  auto step_size = negative_step_size.accessor<double, 1>();
  for (int64_t i = 0; i < counts.size(0); ++i) {
    const double t = static_cast<double>(count[i]);
    root[i] = std::sqrt(1 - std::pow(options.beta2, t));
    step_size[i] = -(lr / (1 - std::pow(options.beta1, t)));
  }
  auto per_row = [&](const torch::Tensor& per_count) {
    return per_count.to(like).index_select(0, which_count).unsqueeze(1);
  };
  return {per_row(sqrt_correction2), per_row(negative_step_size)};
}

}  // namespace

RowSparseAdam::RowSparseAdam(torch::Tensor parameter, const RowSparseAdamOptions& options)
    : RowSparseOptimizer(std::move(parameter), options.lr, "RowSparseAdam"), options_(options) {
  if (!(options_.beta1 >= 0 && options_.beta1 < 1) || !(options_.beta2 >= 0 && options_.beta2 < 1)) {
    fail("RowSparseAdam: betas must be in [0, 1), got ", options_.beta1, " and ", options_.beta2);
  }
  if (!(options_.eps >= 0)) fail("RowSparseAdam: eps must be non-negative, got ", options_.eps);
  if (!(options_.weight_decay >= 0)) {
    fail("RowSparseAdam: weight decay must be non-negative, got ", options_.weight_decay);
  }
  const torch::Tensor table = values();
  exp_avg_ = torch::zeros_like(table, torch::MemoryFormat::Contiguous);
  exp_avg_sq_ = torch::zeros_like(table, torch::MemoryFormat::Contiguous);
  steps_ = torch::zeros({table.size(0)}, table.options().dtype(torch::kInt64));
}

void RowSparseAdam::step(const torch::Tensor& touched_rows) {
  const Rows rows = begin_step(touched_rows);
  if (rows.empty()) return;
  torch::NoGradGuard no_grad;
  const torch::Tensor table = values();
  const torch::Tensor grad = rows.gather(gradient());
  const torch::Tensor weight = rows.gather(table);
  const torch::Tensor exp_avg = rows.gather(exp_avg_);
  const torch::Tensor exp_avg_sq = rows.gather(exp_avg_sq_);
  const torch::Tensor steps = rows.gather(steps_);
  const double beta1 = options_.beta1;
  const double beta2 = options_.beta2;

  // AdamW's order of operations, which the bitwise equality depends on.
  steps.add_(1);
  if (options_.weight_decay != 0) weight.mul_(1 - lr() * options_.weight_decay);
  exp_avg.mul_(beta1).add_(grad, 1 - beta1);
  exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
  const BiasCorrections corrections = bias_corrections(steps, options_, lr(), table.options());
  const torch::Tensor denom = (exp_avg_sq.sqrt() / corrections.sqrt_correction2).add_(options_.eps);
  // addcdiv_ with a per-row value: weight + (value * exp_avg) / denom.
  weight.add_(exp_avg.mul(corrections.negative_step_size).div_(denom));

  rows.scatter(table, weight);
  rows.scatter(exp_avg_, exp_avg);
  rows.scatter(exp_avg_sq_, exp_avg_sq);
  rows.scatter(steps_, steps);
}

std::vector<std::pair<std::string, torch::Tensor>> RowSparseAdam::state() {
  return {{"exp_avg", exp_avg_}, {"exp_avg_sq", exp_avg_sq_}, {"step", steps_}};
}

}  // namespace seqrec::parallel
