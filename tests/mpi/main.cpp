// gtest main for tests that run on every rank under mpirun.
//
// Rank 0 prints gtest's report; the other ranks print only their own failures, tagged.
// A test that fails on any rank fails on all of them, so rank 0's report and every
// rank's exit code tell the truth about the whole run.
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <mpi.h>

namespace {

// What the other ranks print instead of gtest's report: their own failures, tagged.
class PrintFailures : public testing::EmptyTestEventListener {
 public:
  explicit PrintFailures(int rank) : rank_(rank) {}

 private:
  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: Failure\n%s\n", rank_, result.file_name() ? result.file_name() : "?",
                 result.line_number(), result.message());
  }
  int rank_;
};

class FailOnAnyRank : public testing::EmptyTestEventListener {
  // Runs before the result printer's OnTestEnd (end events go to listeners in reverse
  // order), while failures still count against the test.
  void OnTestEnd(const testing::TestInfo& test) override {
    int size = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const int failed_here = test.result()->Failed() ? 1 : 0;
    std::vector<int> failed(size);
    MPI_Allgather(&failed_here, 1, MPI_INT, failed.data(), 1, MPI_INT, MPI_COMM_WORLD);
    if (failed_here) return;
    std::string ranks;
    for (int r = 0; r < size; ++r) {
      if (failed[r]) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
    }
    if (!ranks.empty()) ADD_FAILURE() << "failed on rank " << ranks;
  }
};

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
  if (rank != 0) {
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new PrintFailures(rank));
  }
  listeners.Append(new FailOnAnyRank);
  const int result = RUN_ALL_TESTS();
  MPI_Finalize();
  return result;
}
