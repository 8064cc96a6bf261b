#include "seqrec/train/distributed_optimizer.h"

#include "seqrec/core/error.h"
#include "seqrec/parallel/broadcast_parameters.h"
#include "seqrec/parallel/global_grad_norm.h"
#include "seqrec/parallel/row_sparse_adagrad.h"
#include "seqrec/parallel/row_sparse_adam.h"

namespace seqrec::train {

namespace {

std::unique_ptr<parallel::RowSparseOptimizer> sparse_optimizer(const torch::Tensor& rows,
                                                               const OptimizerOptions& o) {
  if (o.sparse == "adam" || o.sparse == "lazy-adam") {
    parallel::RowSparseAdamOptions adam;
    adam.lr = o.lr;
    adam.weight_decay = o.weight_decay;
    adam.beta1 = o.beta1;
    adam.beta2 = o.beta2;
    return std::make_unique<parallel::RowSparseAdam>(rows, adam);
  }
  if (o.sparse == "adagrad") {
    parallel::RowSparseAdagradOptions adagrad;
    adagrad.lr = o.lr;
    return std::make_unique<parallel::RowSparseAdagrad>(rows, adagrad);
  }
  fail("train.sparse_optimizer: unknown value '", o.sparse, "' (valid: adam, lazy-adam, adagrad)");
}

std::vector<torch::Tensor> shards(const parallel::ParameterGroups& groups) {
  std::vector<torch::Tensor> out;
  for (const auto& table : groups.sharded) out.push_back(table->shard());
  return out;
}

}  // namespace

DistributedOptimizer::DistributedOptimizer(torch::nn::Module& model, std::shared_ptr<comm::Communicator> comm,
                                           const OptimizerOptions& options)
    : comm_(std::move(comm)), options_(options), groups_(parallel::parameter_groups(model)) {
  parallel::broadcast_parameters(groups_.replicated, *comm_, 0);
  buckets_ = std::make_unique<parallel::GradientBuckets>(groups_.replicated, comm_, options.bucket_bytes,
                                                        options.overlap);
  dense_ = std::make_unique<torch::optim::AdamW>(
      groups_.replicated, torch::optim::AdamWOptions(options.lr)
                                 .betas(std::make_tuple(options.beta1, options.beta2))
                                 .weight_decay(options.weight_decay));
  for (const auto& table : groups_.sharded) sparse_.push_back(sparse_optimizer(table->shard(), options));
}

void DistributedOptimizer::set_lr(double lr) {
  for (auto& group : dense_->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  for (auto& sparse : sparse_) sparse->set_lr(lr);
}

void DistributedOptimizer::step() {
  buckets_->all_reduce();
  if (options_.clip_norm > 0) parallel::clip_grad_norm(groups_.replicated, shards(groups_), options_.clip_norm, *comm_);
  dense_->step();
  for (size_t i = 0; i < sparse_.size(); ++i) {
    torch::Tensor rows = groups_.sharded[i]->take_touched_rows();
    // adam steps every row, as AdamW on the whole table would: a row's moments go on
    // moving it after its batch. Lazy Adam moves a row only when a batch touches it,
    // which learned Beauty's BCE SASRec about half as fast (valid NDCG@10 0.0246 against
    // 0.0316 after 17 epochs).
    if (options_.sparse == "adam") rows = torch::ones_like(rows);
    sparse_[i]->step(rows);
  }
  zero();
}

void DistributedOptimizer::skip() {
  for (const auto& table : groups_.sharded) table->take_touched_rows();
  zero();
}

void DistributedOptimizer::zero() {
  // Not the optimizers' zero_grad: LibTorch 2.x resets gradients to undefined, which
  // would cut the replicated gradients loose from their buckets.
  buckets_->zero();
  for (const auto& table : groups_.sharded) {
    if (table->shard().grad().defined()) table->shard().mutable_grad().zero_();
  }
}

}  // namespace seqrec::train
