// One optimizer step of a model spread over ranks.
//
// Replicated parameters have their gradients summed over ranks in flat buckets and are
// updated by AdamW, identically on every rank. Row-sharded tables are updated by a
// row-wise optimizer on each rank's own rows, only the rows the step touched. Clipping
// uses the norm of the whole gradient, all ranks and shards together. The loss whose
// backward precedes step() must be scaled so that its sum over ranks is the step's loss
// (the trainer divides by the global number of labelled positions): then N ranks take the
// step one rank would.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "seqrec/comm/communicator.h"
#include "seqrec/parallel/gradient_buckets.h"
#include "seqrec/parallel/parameter_groups.h"
#include "seqrec/parallel/row_sparse_optimizer.h"

namespace seqrec::train {

struct OptimizerOptions {
  double lr = 1e-3;
  double weight_decay = 0.0;
  double beta1 = 0.9;                  // Adam's moment decays, dense and row-wise alike
  double beta2 = 0.98;
  double clip_norm = 1.0;              // 0: no clipping
  std::string sparse = "adam";         // of sharded tables: adam (every row, as AdamW) | lazy-adam | adagrad (touched rows)
  int64_t bucket_bytes = parallel::GradientBuckets::kDefaultBucketBytes;
  bool overlap = true;                 // start bucket all-reduces during backward
};

class DistributedOptimizer {
 public:
  // Broadcasts rank 0's replicated parameters, so every rank starts from the same model.
  DistributedOptimizer(torch::nn::Module& model, std::shared_ptr<comm::Communicator> comm,
                       const OptimizerOptions& options);

  void set_lr(double lr);
  // After backward: sum, clip (the global norm is computed only to clip), update, zero
  // the gradients.
  void step();
  // Drops this step's gradients without updating (a step all ranks agreed to skip).
  void skip();

  // What a checkpoint saves and restores: the parameters by group, the AdamW of the
  // replicated ones and the row-wise optimizer of each sharded table (same order as
  // groups().sharded).
  const parallel::ParameterGroups& groups() const { return groups_; }
  torch::optim::AdamW& dense() { return *dense_; }
  parallel::RowSparseOptimizer& sparse(size_t table) { return *sparse_.at(table); }

 private:
  void zero();

  std::shared_ptr<comm::Communicator> comm_;
  OptimizerOptions options_;
  parallel::ParameterGroups groups_;
  std::unique_ptr<parallel::GradientBuckets> buckets_;
  std::unique_ptr<torch::optim::AdamW> dense_;
  std::vector<std::unique_ptr<parallel::RowSparseOptimizer>> sparse_;
};

}  // namespace seqrec::train
