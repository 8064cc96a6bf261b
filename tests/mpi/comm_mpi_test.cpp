// The MPI communicator under real ranks. Every rank can rebuild what any rank contributes
// (rank r's input is a function of r), so each collective's result is checked against
// the same operation computed locally. Misuse is caught before any message is sent, so
// every rank throws alike and none is left waiting.
#include <mpi.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "seqrec/comm/make_communicator.h"
#include "seqrec/comm/mpi_communicator.h"
#include "seqrec/comm/mpi_environment.h"
#include "seqrec/core/log.h"

namespace seqrec::comm {
namespace {

class CommMpiTest : public testing::Test {
 protected:
  // A hang in a broken collective aborts the job within a minute instead of at ctest's limit.
  static void SetUpTestSuite() { comm_ = std::make_unique<MpiCommunicator>(std::chrono::seconds(60)); }
  static void TearDownTestSuite() { comm_.reset(); }

  static MpiCommunicator& comm() { return *comm_; }
  static int rank() { return comm_->rank(); }
  static int size() { return comm_->size(); }

  static inline std::unique_ptr<MpiCommunicator> comm_;
};

// Rank r's input: [3, 4] of (i - 5) * (r + 1), negative and positive so that max and min
// come from different ranks.
torch::Tensor contribution(int rank, torch::Dtype dtype) {
  return ((torch::arange(12) - 5) * (rank + 1)).reshape({3, 4}).to(dtype);
}

torch::Tensor combine(const torch::Tensor& a, const torch::Tensor& b, ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return a + b;
    case ReduceOp::Max: return torch::maximum(a, b);
    case ReduceOp::Min: return torch::minimum(a, b);
  }
  return {};
}

torch::Tensor reduced_locally(int size, torch::Dtype dtype, ReduceOp op) {
  torch::Tensor expected = contribution(0, dtype);
  for (int r = 1; r < size; ++r) expected = combine(expected, contribution(r, dtype), op);
  return expected;
}

const char* op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return "sum";
    case ReduceOp::Max: return "max";
    case ReduceOp::Min: return "min";
  }
  return "?";
}

TEST_F(CommMpiTest, RanksAreConsistentAndAllOnOneNode) {
  int world_rank = 0;
  int world_size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  EXPECT_EQ(rank(), world_rank);
  EXPECT_EQ(size(), world_size);
  EXPECT_EQ(comm().local_size(), size());
  const torch::Tensor local_ranks = comm().all_gather(torch::full({1}, comm().local_rank(), torch::kInt64));
  EXPECT_TRUE(torch::equal(std::get<0>(local_ranks.sort()), torch::arange(size())))
      << "local ranks " << local_ranks;
}

TEST_F(CommMpiTest, AllReduceSumMaxMinForEachDtype) {
  for (torch::Dtype dtype : {torch::kFloat32, torch::kFloat64, torch::kInt64, torch::kInt32}) {
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
      const torch::Tensor tensor = contribution(rank(), dtype);
      comm().all_reduce(tensor, op);
      const torch::Tensor expected = reduced_locally(size(), dtype, op);
      EXPECT_TRUE(torch::equal(tensor, expected))
          << op_name(op) << " of " << dtype << ":\n" << tensor << "\nexpected\n" << expected;
    }
  }
}

TEST_F(CommMpiTest, AllReduceWithoutTimeoutWaitsToCompletion) {
  MpiCommunicator untimed;
  const torch::Tensor tensor = contribution(rank(), torch::kFloat32);
  untimed.all_reduce(tensor, ReduceOp::Sum);
  EXPECT_TRUE(torch::equal(tensor, reduced_locally(size(), torch::kFloat32, ReduceOp::Sum)));
  untimed.barrier();
}

TEST_F(CommMpiTest, AllGatherConcatenatesInRankOrder) {
  for (torch::Dtype dtype : {torch::kFloat32, torch::kInt64, torch::kBFloat16}) {
    const torch::Tensor gathered = comm().all_gather(contribution(rank(), dtype));
    std::vector<torch::Tensor> parts;
    for (int r = 0; r < size(); ++r) parts.push_back(contribution(r, dtype));
    EXPECT_TRUE(torch::equal(gathered, torch::cat(parts))) << dtype << ":\n" << gathered;
  }
}

TEST_F(CommMpiTest, ReduceScatterKeepsThisRanksSliceOfTheReduction) {
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max}) {
    // [2 * size, 3] rows of (i - 4) * (r + 1).
    auto input = [&](int r) {
      return ((torch::arange(6 * size()) - 4) * (r + 1)).reshape({2 * size(), 3}).to(torch::kFloat64);
    };
    torch::Tensor expected = input(0);
    for (int r = 1; r < size(); ++r) expected = combine(expected, input(r), op);
    const torch::Tensor slice = comm().reduce_scatter(input(rank()), op);
    EXPECT_TRUE(torch::equal(slice, expected.slice(0, 2 * rank(), 2 * rank() + 2)))
        << op_name(op) << ":\n" << slice << "\nof\n" << expected;
  }
}

// Rows from rank `source` to rank `dest`: none from rank 0, none to the last rank.
int64_t rows_between(int source, int dest, int size) {
  if (source == 0 || dest == size - 1) return 0;
  return source + dest + 1;
}

// A [2, 3] row that says where it came from, where it goes and which it is.
torch::Tensor row(int source, int dest, int64_t index) {
  return (torch::arange(6) + source * 1000 + dest * 100 + index * 10).reshape({1, 2, 3});
}

TEST_F(CommMpiTest, AllToAllWithUnevenCountsAndEmptyRanks) {
  std::vector<int64_t> send_counts;
  std::vector<torch::Tensor> send_rows{torch::empty({0, 2, 3}, torch::kInt64)};
  for (int dest = 0; dest < size(); ++dest) {
    send_counts.push_back(rows_between(rank(), dest, size()));
    for (int64_t i = 0; i < send_counts.back(); ++i) send_rows.push_back(row(rank(), dest, i));
  }
  const AllToAllResult received = comm().all_to_all(torch::cat(send_rows), send_counts);

  std::vector<int64_t> expected_counts;
  std::vector<torch::Tensor> expected_rows{torch::empty({0, 2, 3}, torch::kInt64)};
  for (int source = 0; source < size(); ++source) {
    expected_counts.push_back(rows_between(source, rank(), size()));
    for (int64_t i = 0; i < expected_counts.back(); ++i) expected_rows.push_back(row(source, rank(), i));
  }
  EXPECT_EQ(received.counts, expected_counts);
  EXPECT_TRUE(torch::equal(received.tensor, torch::cat(expected_rows))) << received.tensor;
}

// GPU variant, skipped without a CUDA device: --dist.backend mpi-gpu's communicator takes
// and returns tensors on the rank's GPU and reduces, gathers and exchanges them through
// host memory, every rank sharing the one GPU of a test machine.
TEST_F(CommMpiTest, MpiGpuBackendMovesGpuTensorsThroughTheHost) {
  if (!built_with_nccl() || !torch::cuda::is_available()) GTEST_SKIP() << "a CPU build or no CUDA device";
  const std::shared_ptr<Communicator> gpu = make_communicator("mpi-gpu", std::chrono::seconds(60));
  ASSERT_TRUE(gpu->device().is_cuda());
  const torch::Tensor reduced = contribution(rank(), torch::kFloat32).to(gpu->device());
  gpu->all_reduce(reduced, ReduceOp::Sum);
  torch::Tensor expected = contribution(0, torch::kFloat32);
  std::vector<torch::Tensor> all{contribution(0, torch::kFloat32)};
  for (int r = 1; r < size(); ++r) {
    expected = combine(expected, contribution(r, torch::kFloat32), ReduceOp::Sum);
    all.push_back(contribution(r, torch::kFloat32));
  }
  EXPECT_TRUE(reduced.is_cuda());
  EXPECT_TRUE(torch::equal(reduced.cpu(), expected)) << reduced;
  const torch::Tensor gathered = gpu->all_gather(contribution(rank(), torch::kFloat32).to(gpu->device()));
  EXPECT_TRUE(gathered.is_cuda());
  EXPECT_TRUE(torch::equal(gathered.cpu(), torch::cat(all))) << gathered;
  std::vector<int64_t> counts(static_cast<size_t>(size()), 1);
  const torch::Tensor send = torch::arange(size(), torch::kInt64).add_(100 * rank()).to(gpu->device());
  const AllToAllResult received = gpu->all_to_all(send, counts);
  EXPECT_TRUE(received.tensor.is_cuda());
  EXPECT_TRUE(torch::equal(received.tensor.cpu(), torch::arange(size(), torch::kInt64).mul_(100).add_(rank())))
      << received.tensor;
}

TEST_F(CommMpiTest, BroadcastFromTheLastRank) {
  const int root = size() - 1;
  for (torch::Dtype dtype : {torch::kFloat32, torch::kInt64, torch::kBFloat16}) {
    const torch::Tensor tensor = contribution(rank(), dtype);
    comm().broadcast(tensor, root);
    EXPECT_TRUE(torch::equal(tensor, contribution(root, dtype))) << dtype << ":\n" << tensor;
  }
}

TEST_F(CommMpiTest, AnyAndAllAgreeOnOneRanksDecision) {
  const bool last = rank() == size() - 1;
  EXPECT_TRUE(comm().any(last));
  EXPECT_FALSE(comm().any(false));
  EXPECT_FALSE(comm().all(!last));
  EXPECT_TRUE(comm().all(true));
  comm().barrier();
}

// Runs `call` and returns what it threw as std::invalid_argument, or "" if nothing.
template <typename Call>
std::string misuse_message(Call call) {
  try {
    call();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST_F(CommMpiTest, MisuseThrowsNamingTheOperation) {
  const torch::Tensor matrix = contribution(rank(), torch::kFloat32);
  EXPECT_NE(misuse_message([&] { comm().all_reduce(matrix.t(), ReduceOp::Sum); })
                .find("all_reduce: needs a contiguous"),
            std::string::npos);
  EXPECT_NE(misuse_message([&] { comm().all_reduce(matrix.to(torch::kInt16), ReduceOp::Sum); })
                .find("all_reduce: dtype"),
            std::string::npos);
  EXPECT_NE(misuse_message([&] { comm().all_reduce(matrix.to(torch::kBFloat16), ReduceOp::Max); })
                .find("bfloat16 can be moved but not reduced"),
            std::string::npos);
  EXPECT_NE(misuse_message([&] { comm().reduce_scatter(torch::zeros({size() + 1, 2}), ReduceOp::Sum); })
                .find("reduce_scatter: dim 0"),
            std::string::npos);
  EXPECT_NE(misuse_message([&] { comm().all_to_all(torch::zeros({size() + 1, 3}), std::vector<int64_t>(size(), 1)); })
                .find("all_to_all: send counts add up to"),
            std::string::npos);
  EXPECT_NE(misuse_message([&] { comm().broadcast(matrix, size()); }).find("broadcast: root"), std::string::npos);
  // Only rank 0 passes the wrong size; every rank learns it in the size exchange.
  const torch::Tensor rows = torch::zeros({rank() == 0 ? 1 : 2, 3});
  EXPECT_NE(misuse_message([&] { comm().all_gather(rows); }).find("all_gather: ranks pass different sizes"),
            std::string::npos);
  comm().barrier();
}

TEST_F(CommMpiTest, EnvironmentLeavesAnInitializedMpiAloneAndSetsTheLogRank) {
  log::set_rank(-1, -1);
  {
    MpiEnvironment environment;
    EXPECT_EQ(environment.rank(), rank());
    EXPECT_EQ(environment.size(), size());
    EXPECT_EQ(log::rank(), rank());
  }
  int finalized = 1;
  MPI_Finalized(&finalized);
  EXPECT_EQ(finalized, 0);
  comm().barrier();
}

}  // namespace
}  // namespace seqrec::comm
