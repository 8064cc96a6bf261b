#include "seqrec/core/threads.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <torch/torch.h>

namespace seqrec {

int local_ranks_from_environment() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
    if (const char* value = std::getenv(name)) return std::max(1, std::atoi(value));
  }
  return 1;
}

int threads_per_rank(int requested) {
  if (requested > 0) return requested;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / local_ranks_from_environment());
}

void configure_threads(int threads) {
  torch::set_num_threads(threads);
  // OpenBLAS keeps one thread: its pool and LibTorch's spin against each other between
  // calls. Looked up at run time: LibTorch links the generic libblas.so.3, which is
  // OpenBLAS only when Debian's alternatives say so.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
}

}  // namespace seqrec
