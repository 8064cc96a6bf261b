// The loader's parts on their own: shuffle order, epoch plan, shard readers.
#include <algorithm>
#include <numeric>

#include <gtest/gtest.h>

#include "seqrec/data/loader_epoch_plan.h"
#include "seqrec/data/loader_shard_readers.h"
#include "seqrec/data/loader_shuffle_order.h"
#include "support/random_dataset.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

std::vector<int64_t> draw_all(ShuffleOrder order) {
  std::vector<int64_t> drawn;
  while (!order.exhausted()) drawn.push_back(order.draw());
  return drawn;
}

std::vector<int64_t> iota(int64_t count) {
  std::vector<int64_t> values(static_cast<size_t>(count));
  std::iota(values.begin(), values.end(), 0);
  return values;
}

TEST(LoaderShuffleOrder, DrawsEveryIndexOnce) {
  for (int64_t capacity : {1, 2, 10, 100, 1000}) {
    std::vector<int64_t> drawn = draw_all(ShuffleOrder(100, capacity, 5));
    if (capacity == 1) {
      EXPECT_EQ(drawn, iota(100));
    } else {
      EXPECT_NE(drawn, iota(100)) << capacity;
    }
    std::sort(drawn.begin(), drawn.end());
    EXPECT_EQ(drawn, iota(100)) << capacity;
  }
  EXPECT_TRUE(ShuffleOrder(0, 4, 5).exhausted());
}

TEST(LoaderShuffleOrder, SameSeedSameOrder) {
  EXPECT_EQ(draw_all(ShuffleOrder(500, 16, 9)), draw_all(ShuffleOrder(500, 16, 9)));
  EXPECT_NE(draw_all(ShuffleOrder(500, 16, 9)), draw_all(ShuffleOrder(500, 16, 10)));
}

// A buffer of capacity c never holds an index more than c - 1 ahead of the draw count:
// that is what bounds the sessions a stream keeps in memory.
TEST(LoaderShuffleOrder, BufferHoldsAtMostCapacityFedInOrder) {
  ShuffleOrder order(300, 8, 3);
  for (int64_t draws = 0; !order.exhausted(); ++draws) {
    EXPECT_LE(static_cast<int64_t>(order.waiting().size()), 8);
    EXPECT_EQ(order.fed(), std::min<int64_t>(300, draws + 8));
    order.draw();
  }
}

TEST(LoaderEpochPlan, StreamsSplitTheSessionsIntoNearlyEqualRanges) {
  const EpochPlan plan({334, 333, 333}, 16, 7, true, 1, 0);
  ASSERT_EQ(plan.num_sessions(), 1000);
  int64_t total = 0;
  for (int64_t v = 0; v < 7; ++v) {
    EXPECT_EQ(plan.stream_size(v), v < 1000 % 7 ? 143 : 142);
    total += plan.stream_size(v);
    // Positions 0..N-1 ask exactly stream_size draws of each stream.
    EXPECT_EQ(plan.draws_before(v, 1000), plan.stream_size(v));
    EXPECT_EQ(plan.draws_before(v, 0), 0);
  }
  EXPECT_EQ(total, 1000);
  int64_t draws = 0;
  for (int64_t v = 0; v < 7; ++v) draws += plan.draws_before(v, 500);
  EXPECT_EQ(draws, 500);
}

// Reading every stream run by run visits each session of each shard exactly once, and
// no run crosses a block.
TEST(LoaderEpochPlan, RunsCoverEveryShardOnceWithinBlocks) {
  const std::vector<int64_t> shards{334, 333, 333};
  for (bool shuffle : {true, false}) {
    const EpochPlan plan(shards, 16, 7, shuffle, 1, 2);
    std::vector<std::vector<int>> seen;
    for (int64_t sessions : shards) seen.emplace_back(static_cast<size_t>(sessions), 0);
    for (int64_t v = 0; v < 7; ++v) {
      for (int64_t index = 0; index < plan.stream_size(v);) {
        const ShardRange run = plan.run_from(v, index);
        ASSERT_GT(run.end, run.begin);
        EXPECT_EQ(run.begin / 16, (run.end - 1) / 16) << "run crosses a block";
        for (int64_t s = run.begin; s < run.end; ++s) ++seen[run.shard][s];
        index += run.end - run.begin;
      }
    }
    for (const std::vector<int>& shard : seen) {
      EXPECT_EQ(std::count(shard.begin(), shard.end(), 1), static_cast<int64_t>(shard.size()));
    }
  }
}

TEST(LoaderEpochPlan, UnshuffledPlanKeepsFileOrderAndShuffledOnesDifferByEpoch) {
  const EpochPlan in_order({40, 40}, 16, 1, false, 1, 3);
  EXPECT_EQ(in_order.run_from(0, 0).begin, 0);
  EXPECT_EQ(in_order.run_from(0, 16).begin, 16);
  EXPECT_EQ(in_order.run_from(0, 40).shard, 1);
  EXPECT_EQ(in_order.run_from(0, 40).begin, 0);

  const auto first_blocks = [](const EpochPlan& plan) {
    std::vector<int64_t> starts;
    for (int64_t index = 0; index < plan.stream_size(0); index += 16) {
      const ShardRange run = plan.run_from(0, index);
      starts.push_back(run.shard * 1000 + run.begin);
    }
    return starts;
  };
  const std::vector<int64_t> shards(20, 64);
  EXPECT_EQ(first_blocks(EpochPlan(shards, 16, 1, true, 1, 0)), first_blocks(EpochPlan(shards, 16, 1, true, 1, 0)));
  EXPECT_NE(first_blocks(EpochPlan(shards, 16, 1, true, 1, 0)), first_blocks(EpochPlan(shards, 16, 1, true, 1, 1)));
}

TEST(LoaderShardReaders, ReopensShardsItClosedToStayUnderItsLimit) {
  const test::TempDir dir;
  test::RandomDatasetOptions options;
  options.train_sessions = 90;
  options.train_shards = 3;
  const Dataset dataset = test::write_random_dataset(dir.path(), options);
  ShardReaders one_open(dataset, kSplitTrain, 1);
  ShardReaders all_open(dataset, kSplitTrain, 3);
  for (int64_t shard : {0, 1, 0, 2, 2, 1, 0}) {
    const SessionBlock a = one_open.read({shard, 3, 9});
    const SessionBlock b = all_open.read({shard, 3, 9});
    EXPECT_EQ(a.session_ids, b.session_ids);
    EXPECT_EQ(a.offsets, b.offsets);
    EXPECT_EQ(a.session_ids.front(), 30 * shard + 3);
  }
  EXPECT_FALSE(one_open.has_targets());
}

}  // namespace
}  // namespace seqrec
