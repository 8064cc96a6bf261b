#include "seqrec/parallel/row_sparse_adagrad.h"

#include "seqrec/core/error.h"

namespace seqrec::parallel {

RowSparseAdagrad::RowSparseAdagrad(torch::Tensor parameter, const RowSparseAdagradOptions& options)
    : RowSparseOptimizer(std::move(parameter), options.lr, "RowSparseAdagrad"), options_(options) {
  if (!(options_.eps >= 0)) fail("RowSparseAdagrad: eps must be non-negative, got ", options_.eps);
  if (!(options_.initial_accumulator_value >= 0)) {
    fail("RowSparseAdagrad: initial accumulator value must be non-negative, got ", options_.initial_accumulator_value);
  }
  sum_ = torch::full_like(values(), options_.initial_accumulator_value, torch::MemoryFormat::Contiguous);
}

void RowSparseAdagrad::step(const torch::Tensor& touched_rows) {
  const Rows rows = begin_step(touched_rows);
  if (rows.empty()) return;
  torch::NoGradGuard no_grad;
  const torch::Tensor table = values();
  const torch::Tensor grad = rows.gather(gradient());
  const torch::Tensor weight = rows.gather(table);
  const torch::Tensor sum = rows.gather(sum_);

  // torch::optim::Adagrad's operations, in its order.
  sum.addcmul_(grad, grad, 1.0);
  const torch::Tensor std = sum.sqrt().add_(options_.eps);
  weight.addcdiv_(grad, std, -lr());

  rows.scatter(table, weight);
  rows.scatter(sum_, sum);
}

std::vector<std::pair<std::string, torch::Tensor>> RowSparseAdagrad::state() { return {{"sum", sum_}}; }

}  // namespace seqrec::parallel
