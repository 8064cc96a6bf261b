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
// Reduction happens after backward, one bucket after another, because Communicator is
// synchronous. Buckets are filled in reverse registration order, the order backward
// produces gradients in, and each is reduced on its own (reduce_bucket), so a variant for
// an asynchronous back end (NCCL) can launch a bucket from a per-parameter
// gradient-accumulated hook as soon as its last gradient is in, overlapping backward.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "seqrec/comm/communicator.h"

namespace seqrec::parallel {

class GradientBuckets {
 public:
  // As DistributedDataParallel: a bucket closes once it holds at least this much.
  static constexpr int64_t kDefaultBucketBytes = int64_t{25} << 20;

  // Parameters that do not require grad are left out. Every parameter must be on
  // comm->device(). Buckets hold one dtype each.
  GradientBuckets(const std::vector<torch::Tensor>& parameters, std::shared_ptr<comm::Communicator> comm,
                  int64_t bucket_bytes = kDefaultBucketBytes);

  // Collective: every rank's gradients become the sum over ranks. Nothing to do on one rank.
  void all_reduce();
  // Zeroes every gradient (and points any replaced .grad() back into its bucket).
  void zero();

  size_t num_buckets() const { return buckets_.size(); }

 private:
  struct Slot {
    torch::Tensor parameter;
    torch::Tensor grad;  // the parameter's slice of the bucket, shaped like it
  };
  struct Bucket {
    torch::Tensor buffer;  // flat
    std::vector<Slot> slots;
  };

  void reduce_bucket(Bucket& bucket);

  std::shared_ptr<comm::Communicator> comm_;
  std::vector<Bucket> buckets_;
};

}  // namespace seqrec::parallel
