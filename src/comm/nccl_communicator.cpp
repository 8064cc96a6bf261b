#include "seqrec/comm/nccl_communicator.h"

#include <cstdlib>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <c10/cuda/CUDAStream.h>

#include "seqrec/core/error.h"
#include "seqrec/core/log.h"
#include "collective_arguments.h"

namespace seqrec::comm {

namespace {

void check_cuda(const char* call, cudaError_t status) {
  if (status != cudaSuccess) throw std::runtime_error(str_cat(call, " failed: ", cudaGetErrorString(status)));
}

// NCCL's result code is coarse ("unhandled system error"); its last-error text says which
// system call or peer failed.
std::string nccl_reason(ncclResult_t status) {
  std::string reason = ncclGetErrorString(status);
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 13, 0)
  const char* last = ncclGetLastError(nullptr);
  if (last != nullptr && *last != '\0') reason += str_cat(" (", last, ")");
#endif
  return reason;
}

void check_nccl(const char* call, ncclResult_t status) {
  if (status != ncclSuccess) throw std::runtime_error(str_cat(call, " failed: ", nccl_reason(status)));
}

ncclDataType_t nccl_type(const torch::Tensor& tensor, const char* operation, int device_index) {
  require(tensor.defined(), operation, "the tensor is undefined");
  require(tensor.is_cuda() && tensor.device().index() == device_index, operation, "needs a tensor on cuda:",
          device_index, " (this rank's GPU), got one on ", tensor.device());
  require(tensor.is_contiguous(), operation, "needs a contiguous tensor (call .contiguous() first)");
  switch (tensor.scalar_type()) {
    case torch::kFloat32: return ncclFloat32;
    case torch::kFloat64: return ncclFloat64;
    case torch::kFloat16: return ncclFloat16;
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 10, 0)
    case torch::kBFloat16: return ncclBfloat16;
#endif
    case torch::kInt64: return ncclInt64;
    case torch::kInt32: return ncclInt32;
    default: break;
  }
  throw std::invalid_argument(str_cat(operation, ": dtype ", tensor.scalar_type(),
                                      " is not supported (float32, float64, bfloat16, float16, int64, int32)"));
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return ncclSum;
    case ReduceOp::Max: return ncclMax;
    case ReduceOp::Min: return ncclMin;
  }
  throw std::logic_error("unknown ReduceOp");
}

// Sends and receives between ncclGroupStart and ncclGroupEnd run as one operation (and
// cannot deadlock on their order). An exception inside must still close the group, or
// every later NCCL call of this process would join it.
class Group {
 public:
  Group() { check_nccl("ncclGroupStart", ncclGroupStart()); }
  ~Group() {
    if (open_) ncclGroupEnd();
  }
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  void end() {
    open_ = false;
    check_nccl("ncclGroupEnd", ncclGroupEnd());
  }

 private:
  bool open_ = true;
};

// What rank 0 broadcasts: a failure to create the id reaches every rank, which then all
// throw it, rather than leaving the others waiting in ncclCommInitRank.
struct UniqueIdMessage {
  ncclResult_t status = ncclSuccess;
  ncclUniqueId id;
  ncclUniqueId side_id;  // of the communicator for start_all_reduce
};

ncclComm_t init_rank(int size, const ncclUniqueId& id, int rank, int device, int devices) {
  ncclComm_t comm = nullptr;
  const ncclResult_t status = ncclCommInitRank(&comm, size, id, rank);
  if (status != ncclSuccess) {
    throw std::runtime_error(str_cat("ncclCommInitRank failed on rank ", rank, " (cuda:", device, " of ", devices,
                                     " visible; NCCL needs a GPU of its own for each rank of a node): ",
                                     nccl_reason(status)));
  }
  return comm;
}

}  // namespace

NcclCommunicator::NcclCommunicator(std::chrono::seconds timeout) : timeout_(timeout) {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) {
    throw std::logic_error("NcclCommunicator: MPI is not initialized (create an MpiEnvironment first)");
  }
  MPI_Comm_dup(MPI_COMM_WORLD, &mpi_comm_);
  try {
    MPI_Comm_rank(mpi_comm_, &rank_);
    MPI_Comm_size(mpi_comm_, &size_);
    MPI_Comm node = MPI_COMM_NULL;
    MPI_Comm_split_type(mpi_comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local_rank_);
    MPI_Comm_size(node, &local_size_);
    MPI_Comm_free(&node);

    int devices = 0;
    check_cuda("cudaGetDeviceCount", cudaGetDeviceCount(&devices));
    if (devices == 0) throw std::runtime_error("NcclCommunicator: no CUDA device is visible to this rank");
    device_index_ = local_rank_ % devices;
    check_cuda("cudaSetDevice", cudaSetDevice(device_index_));

    UniqueIdMessage message;
    std::memset(&message.id, 0, sizeof message.id);
    std::memset(&message.side_id, 0, sizeof message.side_id);
    if (rank_ == 0) {
      message.status = ncclGetUniqueId(&message.id);
      if (message.status == ncclSuccess) message.status = ncclGetUniqueId(&message.side_id);
    }
    MPI_Bcast(&message, static_cast<int>(sizeof message), MPI_BYTE, 0, mpi_comm_);
    check_nccl("ncclGetUniqueId (on rank 0)", message.status);
    MPI_Barrier(mpi_comm_);
    comm_ = init_rank(size_, message.id, rank_, device_index_, devices);
    side_comm_ = init_rank(size_, message.side_id, rank_, device_index_, devices);
    check_cuda("cudaStreamCreateWithFlags", cudaStreamCreateWithFlags(&side_stream_, cudaStreamNonBlocking));
    check_cuda("cudaEventCreateWithFlags", cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
  } catch (...) {
    if (side_stream_ != nullptr) cudaStreamDestroy(side_stream_);
    if (side_comm_ != nullptr) ncclCommDestroy(side_comm_);
    if (comm_ != nullptr) ncclCommDestroy(comm_);
    MPI_Comm_free(&mpi_comm_);
    throw;
  }
}

NcclCommunicator::~NcclCommunicator() {
  if (done_ != nullptr) cudaEventDestroy(done_);
  // Waits for the collectives still queued; it involves no other rank.
  if (comm_ != nullptr) ncclCommDestroy(comm_);
  if (side_comm_ != nullptr) ncclCommDestroy(side_comm_);
  if (side_stream_ != nullptr) cudaStreamDestroy(side_stream_);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&mpi_comm_);
}

torch::Device NcclCommunicator::device() const {
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device_index_));
}

cudaStream_t NcclCommunicator::stream() const {
  return c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_index_)).stream();
}

// The MPI back end blocks in every collective and can watch each one; here collectives
// are queued on the GPU, so watching one means waiting for it on the host. An event
// recorded behind it tells when it (and whatever was queued before it) is done.
void NcclCommunicator::finish(const char* operation, bool host) {
  if (timeout_.count() == 0) {
    if (host) check_cuda("cudaStreamSynchronize", cudaStreamSynchronize(stream()));
    return;
  }
  check_cuda("cudaEventRecord", cudaEventRecord(done_, stream()));
  watch(done_, comm_, operation);
}

void NcclCommunicator::watch(cudaEvent_t event, ncclComm_t& comm, const char* operation) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    const cudaError_t state = cudaEventQuery(event);
    if (state == cudaSuccess) return;
    if (state != cudaErrorNotReady) check_cuda("cudaEventQuery", state);
    ncclResult_t async = ncclSuccess;
    check_nccl("ncclCommGetAsyncError", ncclCommGetAsyncError(comm, &async));
    if (async != ncclSuccess && async != ncclInProgress) {
      // The communicator is unusable after an asynchronous error; aborting it frees the
      // GPU from the stuck kernel so that the exception can unwind.
      const std::string reason = nccl_reason(async);
      ncclCommAbort(comm);
      comm = nullptr;
      throw std::runtime_error(str_cat(operation, " failed on rank ", rank_, " of ", size_, ": NCCL ", reason));
    }
    if (std::chrono::steady_clock::now() > deadline) abort_job(operation);
    std::this_thread::yield();
  }
}

void NcclCommunicator::abort_job(const char* operation) {
  log::error(operation, " did not complete within ", timeout_.count(), " s on rank ", rank_, " of ", size_,
             "; another rank failed, hangs or skipped it. Aborting the job.");
  // MPI_Abort alone may wait on a GPU spinning in a collective that will never finish.
  if (side_comm_ != nullptr) ncclCommAbort(side_comm_);
  side_comm_ = nullptr;
  ncclCommAbort(comm_);
  comm_ = nullptr;
  MPI_Abort(mpi_comm_, kExitFailure);
  std::abort();  // MPI_Abort does not return; this is for the compiler and odd MPIs
}

void NcclCommunicator::all_reduce(const torch::Tensor& tensor, ReduceOp op) {
  const ncclDataType_t type = nccl_type(tensor, "all_reduce", device_index_);
  if (tensor.numel() == 0) return;
  check_nccl("ncclAllReduce", ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                                            type, nccl_op(op), comm_, stream()));
  finish("all_reduce", false);
}

// The event recorded on the side stream behind the all-reduce; the tensor is kept alive
// until the current stream has been queued behind it.
class NcclCommunicator::PendingEvent final : public PendingCollective {
 public:
  PendingEvent(NcclCommunicator& comm, torch::Tensor tensor) : comm_(comm), tensor_(std::move(tensor)) {
    check_cuda("cudaEventCreateWithFlags", cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
  }
  ~PendingEvent() override {
    if (done_ != nullptr) cudaEventDestroy(done_);
  }
  PendingEvent(const PendingEvent&) = delete;
  PendingEvent& operator=(const PendingEvent&) = delete;

  cudaEvent_t event() const { return done_; }
  void wait() override {
    if (waited_) return;
    waited_ = true;
    if (comm_.timeout_.count() > 0) comm_.watch(done_, comm_.side_comm_, "all_reduce (started)");
    check_cuda("cudaStreamWaitEvent", cudaStreamWaitEvent(comm_.stream(), done_, 0));
  }

 private:
  NcclCommunicator& comm_;
  torch::Tensor tensor_;
  cudaEvent_t done_ = nullptr;
  bool waited_ = false;
};

std::unique_ptr<PendingCollective> NcclCommunicator::start_all_reduce(const torch::Tensor& tensor, ReduceOp op) {
  const ncclDataType_t type = nccl_type(tensor, "all_reduce", device_index_);
  auto pending = std::make_unique<PendingEvent>(*this, tensor);
  // The side stream starts behind what the current stream has queued: the gradients.
  check_cuda("cudaEventRecord", cudaEventRecord(pending->event(), stream()));
  check_cuda("cudaStreamWaitEvent", cudaStreamWaitEvent(side_stream_, pending->event(), 0));
  if (tensor.numel() > 0) {
    check_nccl("ncclAllReduce", ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                                              type, nccl_op(op), side_comm_, side_stream_));
  }
  check_cuda("cudaEventRecord", cudaEventRecord(pending->event(), side_stream_));
  return pending;
}

torch::Tensor NcclCommunicator::all_gather(const torch::Tensor& tensor) {
  const ncclDataType_t type = nccl_type(tensor, "all_gather", device_index_);
  require_rows(tensor, "all_gather");
  const torch::Tensor gathered = torch::empty(with_rows(tensor, tensor.size(0) * size_), tensor.options());
  if (tensor.numel() == 0) return gathered;
  check_nccl("ncclAllGather", ncclAllGather(tensor.data_ptr(), gathered.data_ptr(),
                                            static_cast<size_t>(tensor.numel()), type, comm_, stream()));
  finish("all_gather", false);
  return gathered;
}

torch::Tensor NcclCommunicator::reduce_scatter(const torch::Tensor& tensor, ReduceOp op) {
  const ncclDataType_t type = nccl_type(tensor, "reduce_scatter", device_index_);
  require_rows(tensor, "reduce_scatter");
  require(tensor.size(0) % size_ == 0, "reduce_scatter", "dim 0 (", tensor.size(0), ") is not divisible by ",
          size_, " ranks");
  const torch::Tensor slice = torch::empty(with_rows(tensor, tensor.size(0) / size_), tensor.options());
  if (slice.numel() == 0) return slice;
  check_nccl("ncclReduceScatter", ncclReduceScatter(tensor.data_ptr(), slice.data_ptr(),
                                                    static_cast<size_t>(slice.numel()), type, nccl_op(op), comm_,
                                                    stream()));
  finish("reduce_scatter", false);
  return slice;
}

// Every rank learns how many rows each other rank sends it: one int64 each way per pair.
// The counts size the receiving tensor, so the host must wait for them.
void NcclCommunicator::exchange_counts(const std::vector<int64_t>& send_counts, std::vector<int64_t>& recv_counts) {
  const auto on_device = torch::dtype(torch::kInt64).device(device());
  const torch::Tensor outgoing = torch::tensor(send_counts, torch::dtype(torch::kInt64)).to(device());
  const torch::Tensor incoming = torch::empty({size_}, on_device);
  const auto* out = outgoing.data_ptr<int64_t>();
  auto* in = incoming.data_ptr<int64_t>();
  Group group;
  for (int r = 0; r < size_; ++r) {
    check_nccl("ncclSend", ncclSend(out + r, 1, ncclInt64, r, comm_, stream()));
    check_nccl("ncclRecv", ncclRecv(in + r, 1, ncclInt64, r, comm_, stream()));
  }
  group.end();
  finish("all_to_all", true);
  const torch::Tensor host = incoming.cpu();
  recv_counts.assign(host.data_ptr<int64_t>(), host.data_ptr<int64_t>() + size_);
}

AllToAllResult NcclCommunicator::all_to_all(const torch::Tensor& send, const std::vector<int64_t>& send_counts) {
  const ncclDataType_t type = nccl_type(send, "all_to_all", device_index_);
  require_rows(send, "all_to_all");
  require(static_cast<int>(send_counts.size()) == size_, "all_to_all", send_counts.size(), " send counts for ",
          size_, " ranks");
  for (int64_t count : send_counts) require(count >= 0, "all_to_all", "negative send count ", count);
  const int64_t send_rows = std::accumulate(send_counts.begin(), send_counts.end(), int64_t{0});
  require(send_rows == send.size(0), "all_to_all", "send counts add up to ", send_rows, " rows, the tensor has ",
          send.size(0));

  AllToAllResult result;
  exchange_counts(send_counts, result.counts);
  const int64_t recv_rows = std::accumulate(result.counts.begin(), result.counts.end(), int64_t{0});
  result.tensor = torch::empty(with_rows(send, recv_rows), send.options());

  const int64_t row = row_elements(send);
  const int64_t row_bytes = row * static_cast<int64_t>(send.element_size());
  const auto* out = static_cast<const char*>(send.data_ptr());
  auto* in = static_cast<char*>(result.tensor.data_ptr());
  Group group;
  int64_t sent = 0;
  int64_t received = 0;
  for (int r = 0; r < size_; ++r) {
    // A zero count needs no message; the peer skips the matching call as well.
    if (send_counts[r] > 0 && row > 0) {
      check_nccl("ncclSend", ncclSend(out + sent * row_bytes, static_cast<size_t>(send_counts[r] * row), type, r,
                                      comm_, stream()));
    }
    if (result.counts[r] > 0 && row > 0) {
      check_nccl("ncclRecv", ncclRecv(in + received * row_bytes, static_cast<size_t>(result.counts[r] * row), type,
                                      r, comm_, stream()));
    }
    sent += send_counts[r];
    received += result.counts[r];
  }
  group.end();
  finish("all_to_all", false);
  return result;
}

void NcclCommunicator::broadcast(const torch::Tensor& tensor, int root) {
  const ncclDataType_t type = nccl_type(tensor, "broadcast", device_index_);
  require(root >= 0 && root < size_, "broadcast", "root ", root, " is not a rank of ", size_);
  if (tensor.numel() == 0) return;
  check_nccl("ncclBroadcast", ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                                            type, root, comm_, stream()));
  finish("broadcast", false);
}

// An all-reduce completes on no rank before every rank has joined it; waiting for it on
// the host makes it a barrier for the host as well as for the stream.
void NcclCommunicator::barrier() {
  const torch::Tensor token = torch::ones({1}, torch::dtype(torch::kInt32).device(device()));
  check_nccl("ncclAllReduce", ncclAllReduce(token.data_ptr(), token.data_ptr(), 1, ncclInt32, ncclSum, comm_,
                                            stream()));
  finish("barrier", true);
}

}  // namespace seqrec::comm
