#include "seqrec/comm/mpi_communicator.h"

#include <limits>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <utility>

#include "seqrec/core/error.h"
#include "seqrec/core/log.h"
#include "collective_arguments.h"

namespace seqrec::comm {

namespace {

enum class Use { Move, Reduce };

// MPI cannot add bfloat16, but moving its bits as 16-bit words is exact.
MPI_Datatype mpi_type(const torch::Tensor& tensor, const char* operation, Use use) {
  require(tensor.defined(), operation, "the tensor is undefined");
  require(tensor.device().is_cpu(), operation, "needs a CPU tensor, got one on ", tensor.device());
  require(tensor.is_contiguous(), operation, "needs a contiguous tensor (call .contiguous() first)");
  switch (tensor.scalar_type()) {
    case torch::kInt64: return MPI_INT64_T;
    case torch::kInt32: return MPI_INT32_T;
    case torch::kFloat32: return MPI_FLOAT;
    case torch::kFloat64: return MPI_DOUBLE;
    case torch::kBFloat16:
      if (use == Use::Move) return MPI_UINT16_T;
      break;
    default: break;
  }
  throw std::invalid_argument(str_cat(operation, ": dtype ", tensor.scalar_type(),
                                      " is not supported (int64, int32, float32, float64",
                                      use == Use::Move ? ", bfloat16)" : "; bfloat16 can be moved but not reduced)"));
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return MPI_SUM;
    case ReduceOp::Max: return MPI_MAX;
    case ReduceOp::Min: return MPI_MIN;
  }
  throw std::logic_error("unknown ReduceOp");
}

int mpi_count(int64_t elements, const char* operation) {
  require(elements <= std::numeric_limits<int>::max(), operation, elements,
          " elements are more than one MPI call can count; send the tensor in parts");
  return static_cast<int>(elements);
}

// MPI's per-rank counts and offsets for a variable exchange, in elements.
struct ElementLayout {
  std::vector<int> counts;
  std::vector<int> offsets;
};

ElementLayout element_layout(const std::vector<int64_t>& rows, int64_t row_elements, const char* operation) {
  ElementLayout layout;
  int64_t offset = 0;
  for (int64_t count : rows) {
    layout.counts.push_back(mpi_count(count * row_elements, operation));
    layout.offsets.push_back(mpi_count(offset, operation));
    offset += count * row_elements;
  }
  return layout;
}

}  // namespace

MpiCommunicator::MpiCommunicator(std::chrono::seconds timeout, MPI_Comm base) : timeout_(timeout) {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) {
    throw std::logic_error("MpiCommunicator: MPI is not initialized (create an MpiEnvironment first)");
  }
  // A communicator of our own keeps these collectives apart from any other MPI user.
  MPI_Comm_dup(base, &comm_);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  MPI_Comm node = MPI_COMM_NULL;
  MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&comm_);
}

// Every collective is started non-blocking and finished here, so one place enforces the
// timeout: a rank that died, hangs, or skipped the call would otherwise leave the rest
// waiting forever with nothing in the logs.
void MpiCommunicator::wait(MPI_Request& request, const char* operation) {
  if (request == MPI_REQUEST_NULL) return;
  if (timeout_.count() == 0) {
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  int done = 0;
  MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  while (!done) {
    if (std::chrono::steady_clock::now() > deadline) {
      log::error(operation, " did not complete within ", timeout_.count(), " s on rank ", rank_, " of ", size_,
                 "; another rank failed, hangs or skipped it. Aborting the job.");
      MPI_Abort(comm_, kExitFailure);
    }
    std::this_thread::yield();
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  }
}

void MpiCommunicator::all_reduce(const torch::Tensor& tensor, ReduceOp op) {
  const MPI_Datatype type = mpi_type(tensor, "all_reduce", Use::Reduce);
  MPI_Request request;
  MPI_Iallreduce(MPI_IN_PLACE, tensor.data_ptr(), mpi_count(tensor.numel(), "all_reduce"), type, mpi_op(op), comm_,
                 &request);
  wait(request, "all_reduce");
}

// A non-blocking all-reduce: MPI moves it along whenever this process calls MPI (each
// later start included), and wait() finishes it under the same timeout as the rest.
class MpiCommunicator::PendingRequest final : public PendingCollective {
 public:
  PendingRequest(MpiCommunicator& comm, torch::Tensor tensor) : comm_(comm), tensor_(std::move(tensor)) {}
  ~PendingRequest() override { wait(); }  // MPI still writes into the tensor until then
  PendingRequest(const PendingRequest&) = delete;
  PendingRequest& operator=(const PendingRequest&) = delete;

  void wait() override { comm_.wait(request_, "all_reduce"); }
  MPI_Request& request() { return request_; }

 private:
  MpiCommunicator& comm_;
  torch::Tensor tensor_;  // kept alive while MPI may write into it
  MPI_Request request_ = MPI_REQUEST_NULL;
};

std::unique_ptr<PendingCollective> MpiCommunicator::start_all_reduce(const torch::Tensor& tensor, ReduceOp op) {
  const MPI_Datatype type = mpi_type(tensor, "all_reduce", Use::Reduce);
  auto pending = std::make_unique<PendingRequest>(*this, tensor);
  MPI_Iallreduce(MPI_IN_PLACE, tensor.data_ptr(), mpi_count(tensor.numel(), "all_reduce"), type, mpi_op(op), comm_,
                 &pending->request());
  return pending;
}

torch::Tensor MpiCommunicator::all_gather(const torch::Tensor& tensor) {
  const MPI_Datatype type = mpi_type(tensor, "all_gather", Use::Move);
  require_rows(tensor, "all_gather");
  // MPI cannot tell unequal sizes from a truncated message; one small exchange first lets
  // every rank see them and throw the same error.
  const int64_t mine = tensor.numel();
  std::vector<int64_t> numels(static_cast<size_t>(size_));
  MPI_Request request;
  MPI_Iallgather(&mine, 1, MPI_INT64_T, numels.data(), 1, MPI_INT64_T, comm_, &request);
  wait(request, "all_gather");
  for (int r = 0; r < size_; ++r) {
    require(numels[r] == numels[0], "all_gather", "ranks pass different sizes (rank 0: ", numels[0],
            " elements, rank ", r, ": ", numels[r], ")");
  }
  const torch::Tensor gathered = torch::empty(with_rows(tensor, tensor.size(0) * size_), tensor.options());
  const int count = mpi_count(mine, "all_gather");
  MPI_Iallgather(tensor.data_ptr(), count, type, gathered.data_ptr(), count, type, comm_, &request);
  wait(request, "all_gather");
  return gathered;
}

torch::Tensor MpiCommunicator::reduce_scatter(const torch::Tensor& tensor, ReduceOp op) {
  const MPI_Datatype type = mpi_type(tensor, "reduce_scatter", Use::Reduce);
  require_rows(tensor, "reduce_scatter");
  require(tensor.size(0) % size_ == 0, "reduce_scatter", "dim 0 (", tensor.size(0), ") is not divisible by ",
          size_, " ranks");
  mpi_count(tensor.numel(), "reduce_scatter");
  const torch::Tensor slice = torch::empty(with_rows(tensor, tensor.size(0) / size_), tensor.options());
  MPI_Request request;
  MPI_Ireduce_scatter_block(tensor.data_ptr(), slice.data_ptr(), static_cast<int>(slice.numel()), type,
                            mpi_op(op), comm_, &request);
  wait(request, "reduce_scatter");
  return slice;
}

AllToAllResult MpiCommunicator::all_to_all(const torch::Tensor& send, const std::vector<int64_t>& send_counts) {
  const MPI_Datatype type = mpi_type(send, "all_to_all", Use::Move);
  require_rows(send, "all_to_all");
  require(static_cast<int>(send_counts.size()) == size_, "all_to_all", send_counts.size(), " send counts for ",
          size_, " ranks");
  for (int64_t count : send_counts) require(count >= 0, "all_to_all", "negative send count ", count);
  const int64_t send_rows = std::accumulate(send_counts.begin(), send_counts.end(), int64_t{0});
  require(send_rows == send.size(0), "all_to_all", "send counts add up to ", send_rows, " rows, the tensor has ",
          send.size(0));

  AllToAllResult result;
  result.counts.resize(static_cast<size_t>(size_));
  MPI_Request request;
  MPI_Ialltoall(send_counts.data(), 1, MPI_INT64_T, result.counts.data(), 1, MPI_INT64_T, comm_, &request);
  wait(request, "all_to_all");

  const int64_t row = row_elements(send);
  const ElementLayout sent = element_layout(send_counts, row, "all_to_all");
  const ElementLayout received = element_layout(result.counts, row, "all_to_all");
  const int64_t recv_rows = std::accumulate(result.counts.begin(), result.counts.end(), int64_t{0});
  result.tensor = torch::empty(with_rows(send, recv_rows), send.options());
  MPI_Ialltoallv(send.data_ptr(), sent.counts.data(), sent.offsets.data(), type, result.tensor.data_ptr(),
                 received.counts.data(), received.offsets.data(), type, comm_, &request);
  wait(request, "all_to_all");
  return result;
}

void MpiCommunicator::broadcast(const torch::Tensor& tensor, int root) {
  const MPI_Datatype type = mpi_type(tensor, "broadcast", Use::Move);
  require(root >= 0 && root < size_, "broadcast", "root ", root, " is not a rank of ", size_);
  MPI_Request request;
  MPI_Ibcast(tensor.data_ptr(), mpi_count(tensor.numel(), "broadcast"), type, root, comm_, &request);
  wait(request, "broadcast");
}

void MpiCommunicator::barrier() {
  MPI_Request request;
  MPI_Ibarrier(comm_, &request);
  wait(request, "barrier");
}

}  // namespace seqrec::comm
