#include "support/shared_random_dataset.h"

#include <mpi.h>
#include <unistd.h>

namespace seqrec::test {

namespace {

template <typename Action>
std::string attempt(Action action) {
  try {
    action();
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

}  // namespace

SharedRandomDataset::SharedRandomDataset(const std::string& name, const RandomDatasetOptions& options) {
  int64_t pid = getpid();
  MPI_Bcast(&pid, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  dir_ = std::filesystem::temp_directory_path() / ("seqrec-" + name + "-" + std::to_string(pid));
  if (world_rank() == 0) {
    error_ = attempt([&] {
      std::filesystem::remove_all(dir_);
      write_random_dataset(dir_, options);
    });
  }
  agree();
  if (error_.empty()) error_ = attempt([&] { dataset_ = Dataset::open(dir_); });
  agree();
}

SharedRandomDataset::~SharedRandomDataset() {
  dataset_.reset();
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() == 0) std::filesystem::remove_all(dir_);
}

void SharedRandomDataset::agree() {
  int ok = error_.empty() ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (!ok && error_.empty()) error_ = "setting up failed on another rank";
}

}  // namespace seqrec::test
