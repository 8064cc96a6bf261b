#include "seqrec/comm/make_communicator.h"

#include <mpi.h>
#include <torch/cuda.h>

#include <stdexcept>

#include "seqrec/comm/mpi_communicator.h"
#include "seqrec/core/error.h"
#ifdef SEQREC_WITH_CUDA
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

}  // namespace

bool built_with_nccl() {
#ifdef SEQREC_WITH_CUDA
  return true;
#else
  return false;
#endif
}

std::shared_ptr<Communicator> make_communicator(const std::string& backend, std::chrono::seconds timeout) {
  if (backend != "auto" && backend != "mpi" && backend != "nccl") {
    fail("--dist.backend: unknown value '", backend, "' (valid: ", kBackendChoices, ")");
  }
  if (backend == "nccl" && !built_with_nccl()) {
    fail("--dist.backend nccl: this seqrec was built without NCCL (its LibTorch has no CUDA, or CMake found no "
         "NCCL); use --dist.backend mpi or auto (valid: ", kBackendChoices, ")");
  }
  const bool gpu = backend != "mpi" && built_with_nccl() && gpu_on_every_rank();
  if (backend == "nccl" && !gpu) {
    fail("--dist.backend nccl: no CUDA device is visible to ",
         torch::cuda::is_available() ? "another rank" : "this process",
         " (check the driver and CUDA_VISIBLE_DEVICES); use --dist.backend mpi or auto (valid: ", kBackendChoices,
         ")");
  }
#ifdef SEQREC_WITH_CUDA
  if (gpu) return std::make_shared<NcclCommunicator>(timeout);
#endif
  return std::make_shared<MpiCommunicator>(timeout);
}

}  // namespace seqrec::comm
