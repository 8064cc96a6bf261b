// The MPI back end: CPU tensors over a private duplicate of MPI_COMM_WORLD.
//
// Reductions take int64, int32, float32 and float64; moving data (all_gather, all_to_all,
// broadcast) takes bfloat16 as well, sent as raw 16-bit words. Misuse (a tensor that is
// not contiguous, not on the CPU, of another dtype, of sizes the operation cannot split)
// throws std::invalid_argument naming the operation.
#pragma once

#include <mpi.h>

#include <chrono>

#include "seqrec/comm/communicator.h"

namespace seqrec::comm {

class MpiCommunicator final : public Communicator {
 public:
  // MPI must be initialized (see MpiEnvironment). A collective not complete after
  // `timeout` aborts the whole job with a line naming it and the rank; zero waits forever.
  // The ranks are those of `base` (MPI_COMM_SELF: this process alone, a one-rank job
  // inside a bigger one, as tests compare N ranks against one).
  explicit MpiCommunicator(std::chrono::seconds timeout = std::chrono::seconds(0), MPI_Comm base = MPI_COMM_WORLD);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  torch::Device device() const override { return torch::kCPU; }

  void all_reduce(const torch::Tensor& tensor, ReduceOp op) override;
  std::unique_ptr<PendingCollective> start_all_reduce(const torch::Tensor& tensor, ReduceOp op) override;
  torch::Tensor all_gather(const torch::Tensor& tensor) override;
  torch::Tensor reduce_scatter(const torch::Tensor& tensor, ReduceOp op) override;
  AllToAllResult all_to_all(const torch::Tensor& send, const std::vector<int64_t>& send_counts) override;
  void broadcast(const torch::Tensor& tensor, int root) override;
  void barrier() override;

 private:
  class PendingRequest;
  // Until `request` completes, or the timeout aborts the job. A null request is done.
  void wait(MPI_Request& request, const char* operation);

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  std::chrono::seconds timeout_;
};

}  // namespace seqrec::comm
