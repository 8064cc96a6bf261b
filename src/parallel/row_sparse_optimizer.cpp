#include "seqrec/parallel/row_sparse_optimizer.h"

#include "seqrec/core/error.h"

namespace seqrec::parallel {

RowSparseOptimizer::RowSparseOptimizer(torch::Tensor parameter, double lr, const char* name)
    : name_(name), parameter_(std::move(parameter)) {
  if (!parameter_.defined()) fail(name_, ": the table is undefined");
  if (parameter_.dim() != 2) fail(name_, ": needs a table [rows, dim], got sizes ", parameter_.sizes());
  if (!parameter_.is_floating_point()) fail(name_, ": needs a floating-point table, got ", parameter_.scalar_type());
  set_lr(lr);
}

void RowSparseOptimizer::set_lr(double lr) {
  if (!(lr >= 0)) fail(name_, ": learning rate must be non-negative, got ", lr);
  lr_ = lr;
}

void RowSparseOptimizer::set_step_count(int64_t steps) {
  if (steps < 0) fail(name_, ": step count must be non-negative, got ", steps);
  step_count_ = steps;
}

RowSparseOptimizer::Rows RowSparseOptimizer::begin_step(const torch::Tensor& touched_rows) {
  const int64_t rows = parameter_.size(0);
  if (!touched_rows.defined() || touched_rows.scalar_type() != torch::kBool || touched_rows.dim() != 1 ||
      touched_rows.size(0) != rows) {
    fail(name_, ": touched rows must be a bool mask [", rows, "], got ",
         touched_rows.defined() ? str_cat(touched_rows.scalar_type(), " ", touched_rows.sizes()) : "none");
  }
  if (touched_rows.device() != parameter_.device()) {
    fail(name_, ": touched rows are on ", touched_rows.device(), ", the table on ", parameter_.device());
  }
  ++step_count_;
  torch::Tensor index = touched_rows.nonzero().squeeze(1);
  const bool all = index.numel() == rows;
  return Rows(std::move(index), all);
}

torch::Tensor RowSparseOptimizer::gradient() const {
  const torch::Tensor& grad = parameter_.grad();
  if (!grad.defined()) fail(name_, ": rows are marked touched but the table has no gradient");
  if (grad.layout() != torch::kStrided) fail(name_, ": needs a dense gradient, got layout ", grad.layout());
  return grad.detach();
}

}  // namespace seqrec::parallel
