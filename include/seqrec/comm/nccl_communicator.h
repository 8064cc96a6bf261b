// The NCCL back end: CUDA tensors, one GPU per rank. Exists only in builds with
// SEQREC_WITH_CUDA (a CUDA LibTorch with NCCL beside it); comm::make_communicator picks it.
//
// MPI starts the job: it finds the ranks of this node (the GPU is local_rank % the number
// of visible devices, so a launcher that gives each rank one visible GPU works as well as
// one that shows all of them), carries NCCL's unique id from rank 0 to the others, and is
// how a stuck job is aborted.
//
// Collectives are queued on LibTorch's current CUDA stream and return without waiting,
// so later kernels on that stream see their results without a host synchronisation. The
// host waits only where it needs a value (the counts of all_to_all) and in barrier().
// Every dtype may be reduced: float32, float64, bfloat16, float16, int64, int32.
//
// Unlike the MPI back end, all_gather does not first compare the ranks' sizes (that
// would cost a host synchronisation per call): ranks passing different sizes hang or read
// garbage. Misuse that one rank can see (wrong device, dtype, layout, split) throws
// std::invalid_argument naming the operation; a failing CUDA or NCCL call throws
// std::runtime_error naming the call and NCCL's or CUDA's reason.
#pragma once

#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>

#include <chrono>

#include "seqrec/comm/communicator.h"

namespace seqrec::comm {

class NcclCommunicator final : public Communicator {
 public:
  // MPI must be initialized (see MpiEnvironment) and a GPU visible. With a nonzero
  // `timeout` each collective is waited for on the host (the price of watching it): one
  // not complete in time aborts the communicator and the whole job with a line naming it
  // and the rank. Zero leaves collectives asynchronous and waits forever.
  explicit NcclCommunicator(std::chrono::seconds timeout = std::chrono::seconds(0));
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  torch::Device device() const override;

  void all_reduce(const torch::Tensor& tensor, ReduceOp op) override;
  // On a communicator and stream of its own (side_comm_, side_stream_), behind the work
  // queued so far on the current stream; wait() queues the current stream behind it.
  // Two communicators, because NCCL kernels of one communicator on two streams may
  // interleave differently on different ranks and deadlock.
  std::unique_ptr<PendingCollective> start_all_reduce(const torch::Tensor& tensor, ReduceOp op) override;
  torch::Tensor all_gather(const torch::Tensor& tensor) override;
  torch::Tensor reduce_scatter(const torch::Tensor& tensor, ReduceOp op) override;
  AllToAllResult all_to_all(const torch::Tensor& send, const std::vector<int64_t>& send_counts) override;
  void broadcast(const torch::Tensor& tensor, int root) override;
  void barrier() override;

 private:
  class PendingEvent;
  cudaStream_t stream() const;
  // After queueing `operation`: with a timeout, waits for it (watching NCCL's
  // asynchronous errors and the deadline); without one, returns at once unless `host`.
  void finish(const char* operation, bool host);
  // With a timeout: waits on the host for `event`, watching `comm` for asynchronous errors.
  void watch(cudaEvent_t event, ncclComm_t& comm, const char* operation);
  [[noreturn]] void abort_job(const char* operation);
  void exchange_counts(const std::vector<int64_t>& send_counts, std::vector<int64_t>& recv_counts);

  MPI_Comm mpi_comm_ = MPI_COMM_NULL;
  ncclComm_t comm_ = nullptr;
  ncclComm_t side_comm_ = nullptr;
  cudaStream_t side_stream_ = nullptr;
  cudaEvent_t done_ = nullptr;
  int device_index_ = 0;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  std::chrono::seconds timeout_;
};

}  // namespace seqrec::comm
