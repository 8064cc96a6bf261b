// MPI for the lifetime of a scope: initializes on construction, finalizes on destruction,
// and tells the log which rank this process is.
//
// Only the main thread calls MPI (the loader's threads never do), so MPI_THREAD_FUNNELED
// suffices. If MPI is already initialized (a test main, an embedding program), this
// leaves it to whoever initialized it.
#pragma once

namespace seqrec::comm {

class MpiEnvironment {
 public:
  MpiEnvironment();
  ~MpiEnvironment();
  MpiEnvironment(const MpiEnvironment&) = delete;
  MpiEnvironment& operator=(const MpiEnvironment&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  bool owns_mpi_ = false;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace seqrec::comm
