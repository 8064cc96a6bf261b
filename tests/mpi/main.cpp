// gtest main for tests that run on every rank under mpirun.
//
// Only rank 0 prints. A test that fails on any rank fails on all of them, so rank 0's
// report and every rank's exit code tell the truth about the whole run.
#include <cstdio>

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
    const int failed_here = test.result()->Failed() ? 1 : 0;
    int failed_anywhere = 0;
    MPI_Allreduce(&failed_here, &failed_anywhere, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (failed_anywhere && !failed_here) ADD_FAILURE() << "failed on another rank";
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
