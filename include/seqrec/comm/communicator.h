// Collectives over the ranks of a job, on torch tensors.
//
// Everything above comm (sharded tables, gradient buckets, the training loop) sees only
// this interface; MPI serves CPU tensors, a NCCL back end would serve CUDA ones. Every
// rank must call the same collectives in the same order, with the same dtype and the
// same shape where a shape must agree. Tensors must be contiguous and on device().
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

namespace seqrec::comm {

enum class ReduceOp { Sum, Max, Min };

struct AllToAllResult {
  torch::Tensor tensor;             // received rows, rank 0's first
  std::vector<int64_t> counts;      // rows received from each rank
};

// A collective that start_all_reduce() began: its tensor must be left alone until wait()
// returns (on a GPU: until work queued after wait() runs).
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Position and number of ranks on this node (shared memory): picks the GPU, sizes
  // per-node thread pools.
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  // Where the tensors this communicator moves must live.
  virtual torch::Device device() const = 0;

  // In place: every rank ends with the element-wise reduction over all ranks.
  virtual void all_reduce(const torch::Tensor& tensor, ReduceOp op) = 0;
  // The same all-reduce, started and left to finish while the caller goes on (MPI: a
  // non-blocking collective; NCCL: queued on a stream and communicator of its own behind
  // the work queued so far), so gradient buckets reduce while backward still runs. Like
  // every collective, all ranks start the same ones in the same order. The default is the
  // blocking all_reduce, already done when it returns.
  virtual std::unique_ptr<PendingCollective> start_all_reduce(const torch::Tensor& tensor, ReduceOp op);
  // Equal shapes on every rank, at least 1-D; the result stacks them along dim 0 in rank
  // order ([size * n, ...]).
  virtual torch::Tensor all_gather(const torch::Tensor& tensor) = 0;
  // Reduces over ranks, then rank r keeps the r-th of size() equal slices along dim 0.
  virtual torch::Tensor reduce_scatter(const torch::Tensor& tensor, ReduceOp op) = 0;
  // Sends rows send_counts[r] of `send` (consecutive along dim 0, rank 0's first) to
  // rank r. Counts may be zero; rows may have any trailing shape, the same on every rank.
  virtual AllToAllResult all_to_all(const torch::Tensor& send, const std::vector<int64_t>& send_counts) = 0;
  // In place: every rank ends with root's values; shapes must agree.
  virtual void broadcast(const torch::Tensor& tensor, int root) = 0;
  virtual void barrier() = 0;

  // Agreement on a decision made by one rank (stop, skip a non-finite step): every rank
  // learns it in the same call, so none is left waiting in a collective the others skip.
  bool any(bool value);
  bool all(bool value);
  // Host numbers reduced over ranks (metric sums, timings), staged through device().
  std::vector<double> all_reduce_values(std::vector<double> values, ReduceOp op);
};

}  // namespace seqrec::comm
