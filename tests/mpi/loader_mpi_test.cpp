// The loader under real ranks: every rank runs each test body, and the ranks compare
// what they yielded through MPI. Collectives are called the same number of times on
// every rank whatever a rank found, so a failure cannot leave the others waiting.
#include <mpi.h>

#include <algorithm>
#include <numeric>
#include <optional>

#include <gtest/gtest.h>

#include "seqrec/data/loader.h"
#include "support/batch_checks.h"
#include "support/shared_random_dataset.h"

namespace seqrec {
namespace {

using test::session_ids;

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// Each rank's values, in rank order.
std::vector<std::vector<int64_t>> all_gather(const std::vector<int64_t>& mine) {
  const int size = world_size();
  const int count = static_cast<int>(mine.size());
  std::vector<int> counts(size);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  std::vector<int> displacements(size, 0);
  std::partial_sum(counts.begin(), counts.end() - 1, displacements.begin() + 1);
  std::vector<int64_t> flat(static_cast<size_t>(displacements.back() + counts.back()));
  MPI_Allgatherv(mine.data(), count, MPI_INT64_T, flat.data(), counts.data(), displacements.data(), MPI_INT64_T,
                 MPI_COMM_WORLD);
  std::vector<std::vector<int64_t>> out;
  for (int r = 0; r < size; ++r) out.emplace_back(flat.begin() + displacements[r], flat.begin() + displacements[r] + counts[r]);
  return out;
}

std::vector<int64_t> sorted(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  return values;
}

// 1500 training sessions in global batches of 60.
constexpr int64_t kTrainSessions = 1500;
constexpr int64_t kGlobalBatch = 60;
constexpr int64_t kBatchesPerEpoch = (kTrainSessions + kGlobalBatch - 1) / kGlobalBatch;

test::RandomDatasetOptions data_options() {
  test::RandomDatasetOptions options;
  options.train_sessions = kTrainSessions;
  options.valid_sessions = 50;
  options.train_shards = 4;
  options.block_sessions = 16;
  options.max_length = 30;
  return options;
}

class LoaderMpiTest : public testing::Test {
 protected:
  static void SetUpTestSuite() { shared_ = new test::SharedRandomDataset("loader-mpi", data_options()); }
  static void TearDownTestSuite() { delete shared_; }

  static LoaderOptions options(int rank, int world) {
    LoaderOptions o;
    o.global_batch_size = kGlobalBatch;
    o.streams = 12;
    o.shuffle_buffer = 20;
    o.prefetch_batches = 3;
    o.seed = 11;
    o.collate.max_seq_len = 16;
    o.rank = rank;
    o.world_size = world;
    return o;
  }
  static LoaderOptions this_rank() { return options(world_rank(), world_size()); }
  static LoaderOptions single_process() { return options(0, 1); }

  static std::vector<Batch> one_epoch(Loader& loader) {
    std::vector<Batch> batches;
    while (std::optional<Batch> batch = loader.next()) batches.push_back(std::move(*batch));
    return batches;
  }

  // Per global batch k < global_batches, the union of the ranks' shares mine[k] holds
  // the sessions of expected[k], the single-process loader's batch. A rank short of
  // batches takes part with empty shares.
  static void expect_shares_make_global_batches(const std::vector<Batch>& mine, const std::vector<Batch>& expected,
                                                int64_t global_batches) {
    EXPECT_EQ(static_cast<int64_t>(mine.size()), global_batches);
    EXPECT_EQ(static_cast<int64_t>(expected.size()), global_batches);
    std::vector<int64_t> counts;
    std::vector<int64_t> ids;
    for (size_t k = 0; k < static_cast<size_t>(global_batches); ++k) {
      const std::vector<int64_t> share = k < mine.size() ? session_ids(mine[k]) : std::vector<int64_t>{};
      counts.push_back(static_cast<int64_t>(share.size()));
      ids.insert(ids.end(), share.begin(), share.end());
    }
    const std::vector<std::vector<int64_t>> all_counts = all_gather(counts);
    const std::vector<std::vector<int64_t>> all_ids = all_gather(ids);
    std::vector<size_t> taken(all_ids.size(), 0);
    for (size_t k = 0; k < static_cast<size_t>(global_batches); ++k) {
      std::vector<int64_t> together;
      for (size_t r = 0; r < all_ids.size(); ++r) {
        const auto n = static_cast<size_t>(all_counts[r][k]);
        together.insert(together.end(), all_ids[r].begin() + taken[r], all_ids[r].begin() + taken[r] + n);
        taken[r] += n;
      }
      const std::vector<int64_t> whole = k < expected.size() ? session_ids(expected[k]) : std::vector<int64_t>{};
      EXPECT_EQ(sorted(together), sorted(whole)) << "global batch " << k;
    }
  }

  static const Dataset& dataset() { return shared_->dataset(); }
  static const std::string& setup_error() { return shared_->error(); }

  static inline test::SharedRandomDataset* shared_ = nullptr;
};

TEST_F(LoaderMpiTest, RunsOnMoreThanOneRank) {
  EXPECT_GT(world_size(), 1) << "run under mpirun -np 2 or more";
  ASSERT_EQ(setup_error(), "");
}

TEST_F(LoaderMpiTest, EpochCoversTheTrainingSplitOnceWithEqualBatchCounts) {
  ASSERT_EQ(setup_error(), "");
  std::vector<int64_t> ids;
  std::vector<int64_t> batches_per_epoch;
  try {
    Loader loader(dataset(), this_rank());
    const std::vector<Batch> batches = one_epoch(loader);
    batches_per_epoch = {static_cast<int64_t>(batches.size()), loader.batches_per_epoch()};
    for (const Batch& batch : batches) {
      const std::vector<int64_t> batch_ids = session_ids(batch);
      ids.insert(ids.end(), batch_ids.begin(), batch_ids.end());
      test::expect_rows_hold_their_sessions(batch, data_options(), this_rank().collate);
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }

  for (const std::vector<int64_t>& counts : all_gather(batches_per_epoch)) {
    EXPECT_EQ(counts, (std::vector<int64_t>{kBatchesPerEpoch, kBatchesPerEpoch}));
  }
  std::vector<int64_t> together;
  for (const std::vector<int64_t>& share : all_gather(ids)) together.insert(together.end(), share.begin(), share.end());
  std::vector<int64_t> training(kTrainSessions);
  std::iota(training.begin(), training.end(), 0);
  EXPECT_EQ(sorted(together), training);  // no session missing, none twice
}

TEST_F(LoaderMpiTest, GlobalBatchesMatchTheSingleProcessLoader) {
  ASSERT_EQ(setup_error(), "");
  for (int64_t streams : {12, 7}) {
    SCOPED_TRACE("streams " + std::to_string(streams));
    std::vector<Batch> mine;
    std::vector<Batch> expected;
    LoaderOptions sharded = this_rank();
    LoaderOptions whole = single_process();
    sharded.streams = whole.streams = streams;
    try {
      Loader loader(dataset(), sharded);
      Loader reference(dataset(), whole);
      for (int epoch = 0; epoch < 2; ++epoch) {
        for (Batch& batch : one_epoch(loader)) mine.push_back(std::move(batch));
        for (Batch& batch : one_epoch(reference)) expected.push_back(std::move(batch));
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
    expect_shares_make_global_batches(mine, expected, 2 * kBatchesPerEpoch);
  }
}

TEST_F(LoaderMpiTest, ResumingOnEveryRankContinuesAsWithoutStopping) {
  ASSERT_EQ(setup_error(), "");
  for (int64_t stop : {int64_t{4}, kBatchesPerEpoch, kBatchesPerEpoch + 1, kBatchesPerEpoch + 9}) {
    SCOPED_TRACE("stop after " + std::to_string(stop));
    std::vector<int64_t> state;
    try {
      Loader reference(dataset(), this_rank());
      std::vector<std::optional<Batch>> expected;
      for (int64_t i = 0; i < stop + 12; ++i) expected.push_back(reference.next());

      Loader stopped(dataset(), this_rank());
      for (int64_t i = 0; i < stop; ++i) stopped.next();
      const LoaderState saved = stopped.state();
      state = {saved.epoch, saved.step, static_cast<int64_t>(saved.seed)};

      Loader resumed(dataset(), this_rank());
      resumed.restore(saved);
      for (int64_t i = stop; i < stop + 12; ++i) {
        const std::optional<Batch> batch = resumed.next();
        if (batch.has_value() != expected[i].has_value()) {
          ADD_FAILURE() << "call " << i << ": end of epoch in one run but not the other";
          break;
        }
        if (batch) test::expect_same_batch(*batch, *expected[i]);
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
    // Ranks that took the same number of steps stand at the same state.
    const std::vector<std::vector<int64_t>> states = all_gather(state);
    for (const std::vector<int64_t>& other : states) EXPECT_EQ(other, states[0]);
  }
}

// A state saved by a single process resumes on all ranks: the global batches that follow
// are those the single process would have yielded.
TEST_F(LoaderMpiTest, SingleProcessStateResumesAcrossRanks) {
  ASSERT_EQ(setup_error(), "");
  const int64_t stop = 10;
  std::vector<Batch> mine;
  std::vector<Batch> expected;
  try {
    Loader single(dataset(), single_process());
    for (int64_t i = 0; i < stop; ++i) single.next();
    const LoaderState saved = single.state();
    for (Batch& batch : one_epoch(single)) expected.push_back(std::move(batch));

    Loader resumed(dataset(), this_rank());
    resumed.restore(saved);
    mine = one_epoch(resumed);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
  expect_shares_make_global_batches(mine, expected, kBatchesPerEpoch - stop);
}

}  // namespace
}  // namespace seqrec
