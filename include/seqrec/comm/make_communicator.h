// Chooses the communicator back end for a job (--dist.backend).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "seqrec/comm/communicator.h"

namespace seqrec::comm {

// The values of --dist.backend, for option help and messages.
inline constexpr const char* kBackendChoices = "auto | mpi | nccl | mpi-gpu";

// True when this build has the NCCL back end (a CUDA LibTorch with NCCL found at
// configure time); whether a GPU is visible is a separate, run-time question.
bool built_with_nccl();

// "auto": NCCL if the build has it and every rank sees a GPU (mpi-gpu where some node runs
// more ranks than it has GPUs), else MPI. "mpi": MPI on CPU tensors. "nccl": NCCL, a
// UserError if the build lacks it or no GPU is visible. "mpi-gpu": the model on the
// rank's GPU (by local rank, as NCCL's), MPI collectives staged through host memory, so
// that ranks may share a GPU (multi-rank logic on a machine with one GPU); a UserError as
// for nccl. Anything else is a UserError listing the choices.
// MPI must be initialized (MpiEnvironment); `timeout` is the collective timeout of every
// back end (zero waits forever). Every rank must call it with the same arguments.
std::shared_ptr<Communicator> make_communicator(const std::string& backend, std::chrono::seconds timeout);

}  // namespace seqrec::comm
