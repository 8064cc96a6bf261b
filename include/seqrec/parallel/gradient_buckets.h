// Data-parallel gradients of the replicated (dense) parameters: summed over ranks in a
// few large all-reduces instead of one per parameter.
//
// Contract: gradients are SUMMED over ranks, not averaged; scale the loss so that the sum
// is what you want (the training loop divides by the global label count, so the sum of the
// ranks' gradients is the gradient of the global mean).
//
// Each bucket is one flat buffer, and every parameter's .grad() is a tensor over its slice
// of a bucket, so backward accumulates straight into the buckets and reducing them needs
// no copy. Reset gradients with zero(), which keeps them there. Should something replace a
// .grad() anyway (an optimizer's zero_grad that sets them to none, a hook), all_reduce()
// copies it back into its bucket first, and a parameter without a gradient contributes
// zeros.
//
// Buckets are filled in reverse registration order, the order backward produces
// gradients in. With `overlap`, a hook on each parameter's gradient accumulator counts the
// bucket's gradients in, and a bucket whose gradients are all in starts its all-reduce
// (Communicator::start_all_reduce) while backward goes on with earlier layers: on a GPU
// the reduction runs on its own stream beside the backward kernels. Buckets start in
// index order on every rank (a full bucket waits for the ones before it), so the ranks'
// collectives match even when a parameter gets no gradient: buckets still waiting when
// backward ends start in all_reduce(). With overlap, gradients must not be replaced or
// changed between backward and all_reduce().
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "seqrec/comm/communicator.h"

namespace torch::autograd {
struct Node;
}

namespace seqrec::parallel {

class GradientBuckets {
 public:
  // As DistributedDataParallel: a bucket closes once it holds at least this much.
  static constexpr int64_t kDefaultBucketBytes = int64_t{25} << 20;

  // Parameters that do not require grad are left out. Every parameter must be on
  // comm->device(). Buckets hold one dtype each.
  GradientBuckets(const std::vector<torch::Tensor>& parameters, std::shared_ptr<comm::Communicator> comm,
                  int64_t bucket_bytes = kDefaultBucketBytes, bool overlap = false);
  ~GradientBuckets();
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;

  // Collective: every rank's gradients become the sum over ranks (starting the buckets
  // backward has not started, then waiting for all). Nothing to do on one rank.
  void all_reduce();
  // Zeroes every gradient (and points any replaced .grad() back into its bucket).
  void zero();

  size_t num_buckets() const { return buckets_.size(); }
  // Buckets whose all-reduce started during the last backward, before all_reduce().
  size_t started_during_backward() const { return started_during_backward_; }

 private:
  struct Slot {
    torch::Tensor parameter;
    torch::Tensor grad;  // the parameter's slice of the bucket, shaped like it
  };
  struct Bucket {
    torch::Tensor buffer;  // flat
    std::vector<Slot> slots;
    size_t waiting = 0;    // gradients not yet accumulated in this backward
    std::unique_ptr<comm::PendingCollective> reduction;
  };
  struct Hook {
    std::shared_ptr<torch::autograd::Node> accumulator;  // the parameter holds it only weakly
    uintptr_t key;
  };

  void add_hooks();
  void gradient_ready(size_t bucket);
  void start(Bucket& bucket);
  void finish_all();
  void rearm();

  std::shared_ptr<comm::Communicator> comm_;
  std::vector<Bucket> buckets_;
  std::vector<Hook> hooks_;
  size_t next_to_start_ = 0;
  size_t started_during_backward_ = 0;
};

}  // namespace seqrec::parallel
