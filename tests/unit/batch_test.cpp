#include <gtest/gtest.h>

#include <torch/cuda.h>

#include "seqrec/core/error.h"
#include "seqrec/data/batch.h"
#include "seqrec/train/device_staging.h"

namespace seqrec {
namespace {

FeatureSpec feature(std::string name, FeatureScope scope, DType dtype, int64_t max_values) {
  FeatureSpec f;
  f.name = std::move(name);
  f.scope = scope;
  f.dtype = dtype;
  f.kind = dtype == DType::Int64 ? FeatureKind::Categorical : FeatureKind::Continuous;
  f.cardinality = dtype == DType::Int64 ? 1000 : 0;
  f.max_values = max_values;
  return f;
}

Schema test_schema() {
  FeatureSpec item = feature("item_id", FeatureScope::Sequence, DType::Int64, 1);
  item.tags = {kTagItemId};
  FeatureSpec time = feature("time", FeatureScope::Sequence, DType::Float64, 1);
  time.tags = {kTagTime};
  return Schema({item, feature("tags", FeatureScope::Sequence, DType::Int64, 2), time,
                 feature("device", FeatureScope::Context, DType::Int64, 1),
                 feature("interests", FeatureScope::Context, DType::Int64, 3)});
}

// Event t of session s has item 100 * (s + 1) + t, tags {item, item + 1}, time 0.5 + t;
// a session's target is the event that would follow its last.
int64_t item_of(int64_t s, int64_t t) { return 100 * (s + 1) + t; }

SessionBlock test_block(const std::vector<int64_t>& lengths, bool with_targets) {
  SessionBlock block = SessionBlock::empty(test_schema(), with_targets);
  for (size_t s = 0; s < lengths.size(); ++s) {
    const auto session = static_cast<int64_t>(s);
    for (int64_t t = 0; t < lengths[s]; ++t) {
      block.sequence[0].as<int64_t>().push_back(item_of(session, t));
      block.sequence[1].as<int64_t>().insert(block.sequence[1].as<int64_t>().end(),
                                             {item_of(session, t), item_of(session, t) + 1});
      block.sequence[2].as<double>().push_back(0.5 + static_cast<double>(t));
    }
    if (with_targets) {
      const int64_t next = item_of(session, lengths[s]);
      block.targets[0].as<int64_t>().push_back(next);
      block.targets[1].as<int64_t>().insert(block.targets[1].as<int64_t>().end(), {next, next + 1});
      block.targets[2].as<double>().push_back(0.5 + static_cast<double>(lengths[s]));
    }
    block.context[0].as<int64_t>().push_back(2 + session);
    block.context[1].as<int64_t>().insert(block.context[1].as<int64_t>().end(), {2, 3 + session, 0});
    block.session_ids.push_back(40 + session);
    block.offsets.push_back(block.offsets.back() + lengths[s]);
  }
  return block;
}

CollateOptions padded(int64_t max_seq_len, PaddingSide side) {
  CollateOptions options;
  options.max_seq_len = max_seq_len;
  options.padding = side;
  return options;
}

torch::Tensor longs(std::vector<int64_t> values, std::vector<int64_t> shape) {
  return torch::tensor(values, torch::kInt64).reshape(shape);
}

// Every tensor of a batch, features and targets too, in the same order.
std::vector<torch::Tensor> tensors_of(const Batch& batch) {
  std::vector<torch::Tensor> out{batch.session_ids, batch.lengths, batch.mask};
  for (const auto& entry : batch.features) out.push_back(entry.second);
  for (const auto& entry : batch.targets) out.push_back(entry.second);
  return out;
}

TEST(DeviceStaging, CpuBatchesAreUsedWhereTheyAre) {
  const Batch batch = collate(test_block({3, 1, 6}, true), test_schema(), padded(4, PaddingSide::Right));
  const Batch staged = train::DeviceStaging(torch::kCPU).stage(batch);
  const auto before = tensors_of(batch), after = tensors_of(staged);
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(before[i].is_same(after[i])) << i;
}

// GPU variant, skipped without a CUDA device: batches copied on the side stream arrive
// whole for work on the compute stream, batch after batch.
TEST(DeviceStaging, BatchesReachTheGpuWhole) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  train::DeviceStaging staging(torch::Device(torch::kCUDA, 0));
  for (int64_t round = 0; round < 3; ++round) {
    const Batch batch =
        collate(test_block({3 + round, 1, 6}, true), test_schema(), padded(4 + round, PaddingSide::Right));
    const Batch staged = staging.stage(batch);
    const auto before = tensors_of(batch), after = tensors_of(staged);
    ASSERT_EQ(before.size(), after.size());
    for (size_t i = 0; i < before.size(); ++i) {
      EXPECT_TRUE(after[i].is_cuda()) << i;
      // Read on the compute stream, as the model would.
      EXPECT_TRUE(torch::equal(after[i].clone().cpu(), before[i])) << "round " << round << ", tensor " << i;
    }
  }
}

TEST(Collate, RightPaddingKeepsTheMostRecentEvents) {
  const Batch batch = collate(test_block({3, 1, 6}, false), test_schema(), padded(4, PaddingSide::Right));
  EXPECT_TRUE(torch::equal(batch.features.at("item_id"),
                           longs({100, 101, 102, 0,  //
                                  200, 0, 0, 0,      //
                                  302, 303, 304, 305},
                                 {3, 4})));
  EXPECT_TRUE(torch::equal(batch.lengths, longs({3, 1, 4}, {3})));
  EXPECT_TRUE(torch::equal(batch.session_ids, longs({40, 41, 42}, {3})));
}

TEST(Collate, LeftPaddingKeepsTheMostRecentEvents) {
  const Batch batch = collate(test_block({3, 1, 6}, false), test_schema(), padded(4, PaddingSide::Left));
  EXPECT_TRUE(torch::equal(batch.features.at("item_id"),
                           longs({0, 100, 101, 102,  //
                                  0, 0, 0, 200,      //
                                  302, 303, 304, 305},
                                 {3, 4})));
  EXPECT_TRUE(torch::equal(batch.lengths, longs({3, 1, 4}, {3})));
}

TEST(Collate, MaskMarksRealEventsOnEitherSide) {
  const SessionBlock block = test_block({3, 1, 6}, false);
  const Batch right = collate(block, test_schema(), padded(4, PaddingSide::Right));
  const Batch left = collate(block, test_schema(), padded(4, PaddingSide::Left));
  ASSERT_EQ(right.mask.dtype(), torch::kBool);
  EXPECT_TRUE(torch::equal(right.mask, longs({1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1}, {3, 4}).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(left.mask, longs({0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1}, {3, 4}).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(right.mask.sum(1), right.lengths));
  // Padding is zero wherever the mask is false, in every feature.
  EXPECT_EQ(right.features.at("time").masked_select(right.mask.logical_not()).abs().sum().item<double>(), 0.0);
}

TEST(Collate, SequenceLongerThanMaxKeepsItsTail) {
  const Batch batch = collate(test_block({10}, false), test_schema(), padded(3, PaddingSide::Right));
  EXPECT_TRUE(torch::equal(batch.features.at("item_id"), longs({107, 108, 109}, {1, 3})));
  EXPECT_TRUE(torch::equal(batch.features.at("time"),
                           torch::tensor({7.5, 8.5, 9.5}, torch::kFloat64).reshape({1, 3})));
  EXPECT_EQ(batch.lengths.item<int64_t>(), 3);
}

TEST(Collate, MultiValuedSequenceFeatureIsBatchByLengthByWidth) {
  const Batch batch = collate(test_block({2, 1}, false), test_schema(), padded(3, PaddingSide::Left));
  const torch::Tensor& tags = batch.features.at("tags");
  ASSERT_EQ(tags.sizes(), (std::vector<int64_t>{2, 3, 2}));
  EXPECT_EQ(tags.dtype(), torch::kInt64);
  EXPECT_TRUE(torch::equal(tags, longs({0, 0, 100, 101, 101, 102,  //
                                        0, 0, 0, 0, 200, 201},
                                       {2, 3, 2})));
  EXPECT_EQ(batch.features.at("time").dtype(), torch::kFloat64);
}

TEST(Collate, ContextFeaturesAreOneRowPerSession) {
  const Batch batch = collate(test_block({2, 5}, false), test_schema(), padded(3, PaddingSide::Right));
  EXPECT_TRUE(torch::equal(batch.features.at("device"), longs({2, 3}, {2})));
  EXPECT_TRUE(torch::equal(batch.features.at("interests"), longs({2, 3, 0, 2, 4, 0}, {2, 3})));
  EXPECT_TRUE(batch.targets.empty());
}

TEST(Collate, TargetsArePerSequenceFeature) {
  const Batch batch = collate(test_block({2, 5}, true), test_schema(), padded(3, PaddingSide::Right));
  ASSERT_EQ(batch.targets.size(), 3u);
  EXPECT_TRUE(torch::equal(batch.targets.at("item_id"), longs({102, 205}, {2})));
  EXPECT_TRUE(torch::equal(batch.targets.at("tags"), longs({102, 103, 205, 206}, {2, 2})));
  EXPECT_TRUE(torch::equal(batch.targets.at("time"), torch::tensor({2.5, 5.5}, torch::kFloat64)));
}

TEST(Collate, EmptyBlockGivesZeroRowsOfTheRightShapes) {
  const Batch batch = collate(test_block({}, true), test_schema(), padded(5, PaddingSide::Right));
  EXPECT_EQ(batch.size(), 0);
  EXPECT_EQ(batch.session_ids.sizes(), (std::vector<int64_t>{0}));
  EXPECT_EQ(batch.mask.sizes(), (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(batch.features.at("item_id").sizes(), (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(batch.features.at("tags").sizes(), (std::vector<int64_t>{0, 5, 2}));
  EXPECT_EQ(batch.features.at("time").dtype(), torch::kFloat64);
  EXPECT_EQ(batch.features.at("interests").sizes(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(batch.targets.at("tags").sizes(), (std::vector<int64_t>{0, 2}));
}

TEST(Collate, RejectsMaxSeqLenBelowOne) {
  EXPECT_THROW(collate(test_block({2}, false), test_schema(), padded(0, PaddingSide::Right)), UserError);
}

}  // namespace
}  // namespace seqrec
