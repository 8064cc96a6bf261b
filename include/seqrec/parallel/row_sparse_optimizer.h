// Optimizers for one row-sharded table [rows, dim] whose gradient reaches only some rows
// per step (the rows a batch looked up): they update those rows and leave every other row,
// and its optimizer state, untouched. This rank's shard holds the rows; no collective.
//
// Each step reads the table's .grad() on the rows flagged in a bool mask [rows]; what the
// gradient holds on other rows is ignored. With every row flagged, the kernels run on the
// whole tensors in place, on the shapes the matching torch::optim optimizer uses, so the
// results can agree to the bit; otherwise the flagged rows are gathered, updated by the
// same kernels, and written back.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace seqrec::parallel {

class RowSparseOptimizer {
 public:
  virtual ~RowSparseOptimizer() = default;
  RowSparseOptimizer(const RowSparseOptimizer&) = delete;
  RowSparseOptimizer& operator=(const RowSparseOptimizer&) = delete;

  // touched_rows: bool [rows] on the table's device. A step with no row flagged changes
  // nothing but the step count.
  virtual void step(const torch::Tensor& touched_rows) = 0;

  double lr() const { return lr_; }
  void set_lr(double lr);

  // The state tensors by name, in a fixed order; the live tensors, so a checkpoint saves
  // them and restores by copying into them.
  virtual std::vector<std::pair<std::string, torch::Tensor>> state() = 0;
  // Calls of step() so far; restored from a checkpoint with set_step_count().
  int64_t step_count() const { return step_count_; }
  void set_step_count(int64_t steps);

  const torch::Tensor& parameter() const { return parameter_; }

 protected:
  RowSparseOptimizer(torch::Tensor parameter, double lr, const char* name);

  // The rows a step updates: all of them as the whole tensors (so the kernels and shapes
  // are those of torch's optimizers), or the touched ones as gathered copies.
  class Rows {
   public:
    Rows(torch::Tensor index, bool all) : index_(std::move(index)), all_(all) {}
    bool empty() const { return index_.numel() == 0; }
    torch::Tensor gather(const torch::Tensor& tensor) const { return all_ ? tensor : tensor.index_select(0, index_); }
    // Writes updated rows from gather() back; nothing to do when they are the tensor.
    void scatter(const torch::Tensor& tensor, const torch::Tensor& rows) const {
      if (!all_) tensor.index_copy_(0, index_, rows);
    }

   private:
    torch::Tensor index_;
    bool all_;
  };

  // Checks the mask, counts the step and returns the rows to update.
  Rows begin_step(const torch::Tensor& touched_rows);
  // The table's gradient; it must exist when a row is touched.
  torch::Tensor gradient() const;
  // The table's values without autograd, for in-place updates.
  torch::Tensor values() const { return parameter_.detach(); }

 private:
  const char* name_;  // for messages
  torch::Tensor parameter_;
  double lr_;
  int64_t step_count_ = 0;
};

}  // namespace seqrec::parallel
