#include "seqrec/comm/make_communicator.h"

#include <mpi.h>
#include <torch/cuda.h>

#include <stdexcept>

#include "seqrec/comm/mpi_communicator.h"
#include "seqrec/core/error.h"
#ifdef SEQREC_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>

#include "seqrec/comm/nccl_communicator.h"
#endif

namespace seqrec::comm {

namespace {

// Whether every rank sees a GPU. Ranks deciding apart would meet in different back ends
// and wait for each other forever; deciding together, they all fail or all go on.
bool gpu_on_every_rank() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) throw std::logic_error("make_communicator: MPI is not initialized (create an MpiEnvironment first)");
  int mine = torch::cuda::is_available() ? 1 : 0;
  int all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all != 0;
}

#ifdef SEQREC_WITH_CUDA
// Whether some node runs more ranks than it has GPUs: NCCL refuses two ranks on one GPU.
bool ranks_share_gpus() {
  MPI_Comm node = MPI_COMM_NULL;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int local = 0;
  MPI_Comm_size(node, &local);
  MPI_Comm_free(&node);
  int mine = local > static_cast<int>(torch::cuda::device_count()) ? 1 : 0;
  int any = 0;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any != 0;
}

// MPI collectives for tensors on a GPU, staged through host memory. Slower than NCCL, but
// any number of ranks may share one GPU (NCCL refuses two), so the multi-rank logic of a
// GPU build runs on a machine with one GPU.
class HostStagedCommunicator final : public Communicator {
 public:
  HostStagedCommunicator(std::chrono::seconds timeout)
      : mpi_(std::make_shared<MpiCommunicator>(timeout)),
        device_(torch::kCUDA, static_cast<c10::DeviceIndex>(mpi_->local_rank() % torch::cuda::device_count())) {
    c10::cuda::set_device(device_.index());
  }

  int rank() const override { return mpi_->rank(); }
  int size() const override { return mpi_->size(); }
  int local_rank() const override { return mpi_->local_rank(); }
  int local_size() const override { return mpi_->local_size(); }
  torch::Device device() const override { return device_; }

  void all_reduce(const torch::Tensor& tensor, ReduceOp op) override {
    const torch::Tensor host = on_host(tensor, "all_reduce");
    mpi_->all_reduce(host, op);
    tensor.copy_(host);
  }
  torch::Tensor all_gather(const torch::Tensor& tensor) override {
    return mpi_->all_gather(on_host(tensor, "all_gather")).to(device_);
  }
  torch::Tensor reduce_scatter(const torch::Tensor& tensor, ReduceOp op) override {
    return mpi_->reduce_scatter(on_host(tensor, "reduce_scatter"), op).to(device_);
  }
  AllToAllResult all_to_all(const torch::Tensor& send, const std::vector<int64_t>& send_counts) override {
    AllToAllResult received = mpi_->all_to_all(on_host(send, "all_to_all"), send_counts);
    received.tensor = received.tensor.to(device_);
    return received;
  }
  void broadcast(const torch::Tensor& tensor, int root) override {
    const torch::Tensor host = on_host(tensor, "broadcast");
    mpi_->broadcast(host, root);
    tensor.copy_(host);
  }
  void barrier() override { mpi_->barrier(); }

 private:
  torch::Tensor on_host(const torch::Tensor& tensor, const char* operation) const {
    if (!tensor.defined() || tensor.device() != device_) {
      throw std::invalid_argument(std::string(operation) + ": needs a tensor on " + device_.str() + ", got " +
                                  (tensor.defined() ? tensor.device().str() : std::string("an undefined one")));
    }
    return tensor.cpu().contiguous();
  }

  std::shared_ptr<MpiCommunicator> mpi_;
  torch::Device device_;
};
#endif

}  // namespace

bool built_with_nccl() {
#ifdef SEQREC_WITH_CUDA
  return true;
#else
  return false;
#endif
}

std::shared_ptr<Communicator> make_communicator(const std::string& backend, std::chrono::seconds timeout) {
  if (backend != "auto" && backend != "mpi" && backend != "nccl" && backend != "mpi-gpu") {
    fail("--dist.backend: unknown value '", backend, "' (valid: ", kBackendChoices, ")");
  }
  const bool needs_gpu = backend == "nccl" || backend == "mpi-gpu";
  if (needs_gpu && !built_with_nccl()) {
    fail("--dist.backend ", backend, ": this seqrec was built without CUDA and NCCL (its LibTorch has no CUDA, or "
         "CMake found no NCCL); use --dist.backend mpi or auto (valid: ", kBackendChoices, ")");
  }
  const bool gpu = backend != "mpi" && built_with_nccl() && gpu_on_every_rank();
  if (needs_gpu && !gpu) {
    fail("--dist.backend ", backend, ": no CUDA device is visible to ",
         torch::cuda::is_available() ? "another rank" : "this process",
         " (check the driver and CUDA_VISIBLE_DEVICES); use --dist.backend mpi or auto (valid: ", kBackendChoices,
         ")");
  }
#ifdef SEQREC_WITH_CUDA
  if (backend == "mpi-gpu" || (backend == "auto" && gpu && ranks_share_gpus())) {
    return std::make_shared<HostStagedCommunicator>(timeout);
  }
  if (gpu) return std::make_shared<NcclCommunicator>(timeout);
#endif
  return std::make_shared<MpiCommunicator>(timeout);
}

}  // namespace seqrec::comm
