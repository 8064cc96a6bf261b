#include <algorithm>
#include <numeric>
#include <optional>

#include <gtest/gtest.h>

#include "seqrec/core/error.h"
#include "seqrec/data/loader.h"
#include "support/batch_checks.h"
#include "support/random_dataset.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

using test::session_ids;

// 1000 training sessions in shards of 334, 333, 333 and blocks of 16: blocks of every
// size and shard ends inside the streams' ranges.
test::RandomDatasetOptions data_options() {
  test::RandomDatasetOptions options;
  options.train_sessions = 1000;
  options.valid_sessions = 100;
  options.train_shards = 3;
  options.block_sessions = 16;
  options.max_length = 40;
  return options;
}

class LoaderTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_.emplace();
    dataset_ = test::write_random_dataset(dir_->path(), data_options());
  }
  static void TearDownTestSuite() {
    dataset_.reset();
    dir_.reset();
  }

  static LoaderOptions options() {
    LoaderOptions o;
    o.global_batch_size = 64;
    o.streams = 8;
    o.shuffle_buffer = 16;
    o.prefetch_batches = 2;
    o.seed = 3;
    o.collate.max_seq_len = 20;  // below the longest sessions: truncation is exercised
    return o;
  }
  static const Dataset& dataset() { return *dataset_; }

  static std::optional<test::TempDir> dir_;
  static std::optional<Dataset> dataset_;
};

std::optional<test::TempDir> LoaderTest::dir_;
std::optional<Dataset> LoaderTest::dataset_;

std::vector<Batch> one_epoch(Loader& loader) {
  std::vector<Batch> batches;
  while (std::optional<Batch> batch = loader.next()) batches.push_back(std::move(*batch));
  return batches;
}

// What the next `count` calls of next() return, end-of-epoch nullopts included.
std::vector<std::optional<Batch>> take(Loader& loader, int64_t count) {
  std::vector<std::optional<Batch>> taken;
  for (int64_t i = 0; i < count; ++i) taken.push_back(loader.next());
  return taken;
}

std::vector<int64_t> all_ids(const std::vector<Batch>& batches) {
  std::vector<int64_t> ids;
  for (const Batch& batch : batches) {
    const std::vector<int64_t> batch_ids = session_ids(batch);
    ids.insert(ids.end(), batch_ids.begin(), batch_ids.end());
  }
  return ids;
}

std::vector<int64_t> sorted(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  return values;
}

std::vector<int64_t> iota(int64_t begin, int64_t end) {
  std::vector<int64_t> values(static_cast<size_t>(end - begin));
  std::iota(values.begin(), values.end(), begin);
  return values;
}

void expect_same_sequence(const std::vector<std::optional<Batch>>& actual,
                          const std::vector<std::optional<Batch>>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("call " + std::to_string(i));
    ASSERT_EQ(actual[i].has_value(), expected[i].has_value());
    if (expected[i]) test::expect_same_batch(*actual[i], *expected[i]);
  }
}

template <typename Action>
void expect_user_error_naming(Action action, const std::string& option) {
  try {
    action();
    ADD_FAILURE() << "no error for a bad " << option;
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(option), std::string::npos) << e.what();
  }
}

TEST_F(LoaderTest, OneEpochYieldsEverySessionOnce) {
  Loader loader(dataset(), options());
  const std::vector<Batch> batches = one_epoch(loader);
  ASSERT_EQ(static_cast<int64_t>(batches.size()), loader.batches_per_epoch());
  EXPECT_EQ(sorted(all_ids(batches)), iota(0, 1000));
  for (size_t k = 0; k + 1 < batches.size(); ++k) EXPECT_EQ(batches[k].size(), 64);
  EXPECT_EQ(batches.back().size(), 1000 - 15 * 64);
  for (const Batch& batch : batches) test::expect_rows_hold_their_sessions(batch, data_options(), options().collate);
}

TEST_F(LoaderTest, BatchesPerEpochIsCeilOfSessionsOverGlobalBatch) {
  for (int64_t global_batch : {1, 64, 100, 999, 1000, 1500}) {
    SCOPED_TRACE("global batch " + std::to_string(global_batch));
    LoaderOptions o = options();
    o.global_batch_size = global_batch;
    Loader loader(dataset(), o);
    EXPECT_EQ(loader.batches_per_epoch(), (1000 + global_batch - 1) / global_batch);
    const std::vector<Batch> batches = one_epoch(loader);
    EXPECT_EQ(static_cast<int64_t>(batches.size()), loader.batches_per_epoch());
    EXPECT_EQ(sorted(all_ids(batches)), iota(0, 1000));
  }
}

TEST_F(LoaderTest, SameSeedSameOrderOtherEpochOrSeedOtherOrder) {
  Loader first(dataset(), options());
  Loader second(dataset(), options());
  const std::vector<int64_t> epoch0 = all_ids(one_epoch(first));
  const std::vector<int64_t> epoch1 = all_ids(one_epoch(first));
  EXPECT_EQ(all_ids(one_epoch(second)), epoch0);
  EXPECT_EQ(all_ids(one_epoch(second)), epoch1);
  EXPECT_NE(epoch0, epoch1);
  EXPECT_EQ(sorted(epoch1), iota(0, 1000));

  LoaderOptions other_seed = options();
  other_seed.seed = 4;
  Loader third(dataset(), other_seed);
  EXPECT_NE(all_ids(one_epoch(third)), epoch0);
}

TEST_F(LoaderTest, UnshuffledSingleStreamReadsInFileOrder) {
  LoaderOptions o = options();
  o.shuffle = false;
  o.streams = 1;
  Loader loader(dataset(), o);
  EXPECT_EQ(all_ids(one_epoch(loader)), iota(0, 1000));
  EXPECT_EQ(all_ids(one_epoch(loader)), iota(0, 1000));
}

TEST_F(LoaderTest, UnshuffledStreamsInterleaveTheSameWayEveryEpoch) {
  LoaderOptions o = options();
  o.shuffle = false;
  o.streams = 8;  // 125 sessions each: stream v reads sessions 125v.. in order
  Loader loader(dataset(), o);
  const std::vector<int64_t> epoch0 = all_ids(one_epoch(loader));
  ASSERT_EQ(epoch0.size(), 1000u);
  for (size_t p = 0; p < epoch0.size(); ++p) EXPECT_EQ(epoch0[p], static_cast<int64_t>(125 * (p % 8) + p / 8));
  EXPECT_EQ(all_ids(one_epoch(loader)), epoch0);
}

TEST_F(LoaderTest, PrefetchDoesNotChangeTheBatches) {
  LoaderOptions synchronous = options();
  synchronous.prefetch_batches = 0;
  LoaderOptions ahead = options();
  ahead.prefetch_batches = 5;
  Loader a(dataset(), synchronous);
  Loader b(dataset(), ahead);
  const int64_t calls = 2 * (a.batches_per_epoch() + 1);
  expect_same_sequence(take(b, calls), take(a, calls));
}

TEST_F(LoaderTest, StateCountsWhatTheConsumerTook) {
  LoaderOptions o = options();
  o.prefetch_batches = 4;
  Loader loader(dataset(), o);
  take(loader, 3);
  LoaderState state = loader.state();
  EXPECT_EQ(state.epoch, 0);
  EXPECT_EQ(state.step, 3);
  EXPECT_EQ(state.seed, 3u);
  take(loader, loader.batches_per_epoch() - 3);
  EXPECT_EQ(loader.state().step, loader.batches_per_epoch());
  EXPECT_FALSE(loader.next().has_value());
  state = loader.state();
  EXPECT_EQ(state.epoch, 1);
  EXPECT_EQ(state.step, 0);
}

// A loader stopped after `stop` calls and a fresh one restored from its state continue
// exactly like one that never stopped, for several layouts of streams and buffers.
TEST_F(LoaderTest, RestoreContinuesExactlyAsWithoutStopping) {
  std::vector<LoaderOptions> layouts(3, options());
  layouts[1].streams = 5;
  layouts[1].shuffle_buffer = 300;  // more than a stream holds
  layouts[1].global_batch_size = 50;
  layouts[2].shuffle = false;
  layouts[2].prefetch_batches = 0;
  for (const LoaderOptions& o : layouts) {
    Loader reference(dataset(), o);
    const int64_t per_epoch = reference.batches_per_epoch();
    const int64_t calls = 2 * (per_epoch + 1) + 3;  // into the third epoch
    const std::vector<std::optional<Batch>> expected = take(reference, calls);
    // Mid-epoch, at the last batch, after the last batch, across the epoch boundary.
    for (int64_t stop : {int64_t{0}, int64_t{1}, int64_t{7}, per_epoch - 1, per_epoch, per_epoch + 1,
                         per_epoch + 6, 2 * per_epoch + 1, 2 * per_epoch + 2}) {
      SCOPED_TRACE("streams " + std::to_string(o.streams) + ", stop after " + std::to_string(stop));
      Loader stopped(dataset(), o);
      take(stopped, stop);
      const LoaderState state = stopped.state();
      Loader resumed(dataset(), o);
      resumed.restore(state);
      EXPECT_EQ(resumed.state().epoch, state.epoch);
      EXPECT_EQ(resumed.state().step, state.step);
      expect_same_sequence(take(resumed, calls - stop),
                           std::vector<std::optional<Batch>>(expected.begin() + stop, expected.end()));
    }
  }
}

TEST_F(LoaderTest, RestoreRewindsARunningLoader) {
  Loader loader(dataset(), options());
  take(loader, 5);
  const LoaderState saved = loader.state();
  const std::vector<std::optional<Batch>> expected = take(loader, 20);
  loader.restore(saved);
  expect_same_sequence(take(loader, 20), expected);
}

TEST_F(LoaderTest, RestoreRejectsAnotherSeedOrAStepOutsideTheEpoch) {
  Loader loader(dataset(), options());
  expect_user_error_naming([&] { loader.restore({0, 3, 4}); }, "seed");
  expect_user_error_naming([&] { loader.restore({0, loader.batches_per_epoch() + 1, 3}); }, "step");
  expect_user_error_naming([&] { loader.restore({-1, 0, 3}); }, "epoch");
  LoaderState other_order = loader.state();
  other_order.global_batch_size += 1;
  expect_user_error_naming([&] { loader.restore(other_order); }, "global_batch_size");
  other_order = loader.state();
  other_order.streams += 1;
  expect_user_error_naming([&] { loader.restore(other_order); }, "streams");
}

// Loaders for ranks 0..W-1 of W together yield, per global batch, the sessions of the
// single-rank loader's batch, whatever W.
TEST_F(LoaderTest, SimulatedRanksShareEachGlobalBatch) {
  LoaderOptions single = options();
  single.streams = 7;  // not a multiple of W: ranks own different stream counts
  Loader whole(dataset(), single);
  const std::vector<Batch> expected = one_epoch(whole);
  for (int world : {2, 3}) {
    std::vector<std::vector<Batch>> shares;
    for (int rank = 0; rank < world; ++rank) {
      LoaderOptions o = single;
      o.rank = rank;
      o.world_size = world;
      Loader loader(dataset(), o);
      EXPECT_EQ(loader.batches_per_epoch(), whole.batches_per_epoch());
      shares.push_back(one_epoch(loader));
      ASSERT_EQ(shares.back().size(), expected.size()) << "rank " << rank << " of " << world;
    }
    for (size_t k = 0; k < expected.size(); ++k) {
      std::vector<int64_t> together;
      for (const std::vector<Batch>& share : shares) {
        const std::vector<int64_t> ids = session_ids(share[k]);
        together.insert(together.end(), ids.begin(), ids.end());
        test::expect_rows_hold_their_sessions(share[k], data_options(), single.collate);
      }
      EXPECT_EQ(sorted(together), sorted(session_ids(expected[k]))) << "global batch " << k << ", W " << world;
    }
  }
}

TEST_F(LoaderTest, EmptyShareIsAZeroRowBatchOfTheRightShapes) {
  LoaderOptions o = options();
  o.global_batch_size = 999;  // the last global batch is position 999 alone: stream 7 of 8
  o.rank = 0;
  o.world_size = 3;  // stream 7 belongs to rank 1
  Loader loader(dataset(), o);
  const std::vector<Batch> batches = one_epoch(loader);
  ASSERT_EQ(batches.size(), 2u);
  const Batch& empty = batches[1];
  EXPECT_EQ(empty.size(), 0);
  EXPECT_EQ(empty.session_ids.sizes(), (std::vector<int64_t>{0}));
  EXPECT_EQ(empty.mask.sizes(), (std::vector<int64_t>{0, 20}));
  EXPECT_EQ(empty.features.at("item_id").sizes(), (std::vector<int64_t>{0, 20}));
  EXPECT_EQ(empty.features.at("tags").sizes(), (std::vector<int64_t>{0, 20, 3}));
  EXPECT_EQ(empty.features.at("price").dtype(), torch::kFloat32);
  EXPECT_EQ(empty.features.at("device").sizes(), (std::vector<int64_t>{0}));
}

TEST_F(LoaderTest, ValidSplitCarriesTargets) {
  LoaderOptions o = options();
  o.split = kSplitValid;
  o.shuffle = false;
  o.global_batch_size = 32;
  Loader loader(dataset(), o);
  const std::vector<Batch> batches = one_epoch(loader);
  EXPECT_EQ(sorted(all_ids(batches)), iota(1000, 1100));
  for (const Batch& batch : batches) {
    ASSERT_EQ(batch.targets.size(), 3u);
    EXPECT_EQ(batch.targets.at("item_id").sizes(), (std::vector<int64_t>{batch.size()}));
    EXPECT_EQ(batch.targets.at("tags").sizes(), (std::vector<int64_t>{batch.size(), 3}));
    test::expect_rows_hold_their_sessions(batch, data_options(), o.collate);
  }
}

TEST_F(LoaderTest, RejectsInvalidOptionsNamingThem) {
  const auto with = [](auto change) {
    LoaderOptions o = options();
    change(o);
    return o;
  };
  const auto construct = [&](const LoaderOptions& o) { return [&dataset = dataset(), o] { Loader(dataset, o); }; };
  expect_user_error_naming(construct(with([](LoaderOptions& o) { o.split = "training"; })), "split");
  expect_user_error_naming(construct(with([](LoaderOptions& o) { o.split = kSplitTest; })), "split");
  expect_user_error_naming(construct(with([](LoaderOptions& o) { o.world_size = 9; })), "streams");
  expect_user_error_naming(construct(with([](LoaderOptions& o) {
                             o.world_size = 4;
                             o.global_batch_size = 3;
                           })),
                           "global_batch_size");
  expect_user_error_naming(construct(with([](LoaderOptions& o) {
                             o.world_size = 2;
                             o.rank = 2;
                           })),
                           "rank");
  expect_user_error_naming(construct(with([](LoaderOptions& o) { o.shuffle_buffer = 0; })), "shuffle_buffer");
  expect_user_error_naming(construct(with([](LoaderOptions& o) { o.prefetch_batches = -1; })), "prefetch_batches");
  expect_user_error_naming(construct(with([](LoaderOptions& o) { o.collate.max_seq_len = 0; })), "max_seq_len");
}

}  // namespace
}  // namespace seqrec
