// Adagrad for a row-sparse table: the touched rows add their squared gradient to their
// accumulator and move by lr * g / (sqrt(sum) + eps); other rows keep values and sums.
//
// With every row touched, the result is bit for bit that of torch::optim::Adagrad with no
// learning-rate decay and no weight decay: the same operations in the same order.
#pragma once

#include "seqrec/parallel/row_sparse_optimizer.h"

namespace seqrec::parallel {

struct RowSparseAdagradOptions {
  double lr = 1e-2;
  double eps = 1e-10;
  double initial_accumulator_value = 0.0;
};

class RowSparseAdagrad final : public RowSparseOptimizer {
 public:
  RowSparseAdagrad(torch::Tensor parameter, const RowSparseAdagradOptions& options);

  void step(const torch::Tensor& touched_rows) override;
  // sum (like the table).
  std::vector<std::pair<std::string, torch::Tensor>> state() override;

 private:
  RowSparseAdagradOptions options_;
  torch::Tensor sum_;
};

}  // namespace seqrec::parallel
