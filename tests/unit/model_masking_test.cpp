#include <gtest/gtest.h>

#include "seqrec/model/masking.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::model_test_batch;
using test::model_test_schema;

torch::Tensor longs(std::vector<int64_t> values, std::vector<int64_t> shape) {
  return torch::tensor(values, torch::kInt64).reshape(shape);
}

TEST(ModelMasking, CausalLabelsAreTheNextItems) {
  const CausalMasking clm(model_test_schema(20));
  const MaskedBatch right = clm.training(model_test_batch({{5, 6, 7}, {8, 9}}, 4), 0);
  EXPECT_TRUE(torch::equal(right.labels, longs({6, 7, 0, 0, 9, 0, 0, 0}, {2, 4})));
  EXPECT_FALSE(right.hidden.defined());

  const MaskedBatch left = clm.training(model_test_batch({{5, 6, 7}, {8, 9}}, 4, PaddingSide::Left), 0);
  EXPECT_TRUE(torch::equal(left.labels, longs({0, 6, 7, 0, 0, 0, 9, 0}, {2, 4})));
}

TEST(ModelMasking, UnknownItemsAreNeverLabels) {
  const CausalMasking clm(model_test_schema(20));
  const MaskedBatch masked = clm.training(model_test_batch({{5, kUnknownId, 7}}, 4), 0);
  EXPECT_TRUE(torch::equal(masked.labels, longs({0, 7, 0, 0}, {1, 4})));
}

TEST(ModelMasking, CausalInferenceQueriesTheLastEvent) {
  const CausalMasking clm(model_test_schema(20));
  EXPECT_TRUE(torch::equal(clm.inference(model_test_batch({{5, 6, 7}, {8}}, 4)).query, longs({2, 0}, {2})));
  EXPECT_TRUE(torch::equal(clm.inference(model_test_batch({{5, 6, 7}, {8}}, 4, PaddingSide::Left)).query,
                           longs({3, 3}, {2})));
}

TEST(ModelMasking, MaskedItemsAreLabelledOnlyWhereHiddenAndEverySessionHasOne) {
  torch::manual_seed(3);
  std::vector<std::vector<int64_t>> sessions;
  for (int64_t s = 0; s < 400; ++s) sessions.push_back(std::vector<int64_t>(1 + s % 10, 2 + s % 17));
  const Batch batch = model_test_batch(sessions, 10);
  const MaskedBatch masked = MaskedItemMasking(model_test_schema(20), 0.2).training(batch, 7);

  EXPECT_TRUE(torch::equal(masked.hidden & batch.mask.logical_not(), torch::zeros_like(masked.hidden)));
  EXPECT_TRUE(masked.hidden.any(1).all().item<bool>());
  EXPECT_TRUE(torch::equal(masked.labels, batch.features.at("item_id") * masked.hidden));
  // Beyond the one forced per session, about 20% of the events.
  const double share = masked.hidden.sum().item<double>() / batch.mask.sum().item<double>();
  EXPECT_GT(share, 0.2);
  EXPECT_LT(share, 0.35);
}

TEST(ModelMasking, MasksFollowTheSessionNotItsBatch) {
  // What a rank holding a share of the batch draws for its sessions is what one rank
  // holding the whole batch draws for them.
  std::vector<std::vector<int64_t>> sessions;
  for (int64_t s = 0; s < 60; ++s) sessions.push_back(std::vector<int64_t>(2 + s % 7, 2 + s % 13));
  const MaskedItemMasking mlm(model_test_schema(20), 0.3);
  const MaskedBatch whole = mlm.training(model_test_batch(sessions, 8), 11);
  Batch share = model_test_batch({sessions.begin() + 20, sessions.begin() + 40}, 8);
  share.session_ids = share.session_ids + 20;
  EXPECT_TRUE(torch::equal(mlm.training(share, 11).hidden, whole.hidden.slice(0, 20, 40)));
  EXPECT_FALSE(torch::equal(mlm.training(share, 12).hidden, whole.hidden.slice(0, 20, 40)));
}

TEST(ModelMasking, MaskedInferenceAppendsAMaskSlotAfterTheLastEvent) {
  const MaskedItemMasking mlm(model_test_schema(20), 0.2);
  const MaskedBatch right = mlm.inference(model_test_batch({{5, 6}, {2, 3, 4, 5}}, 4));
  EXPECT_TRUE(torch::equal(right.query, longs({2, 3}, {2})));
  EXPECT_TRUE(torch::equal(right.hidden, torch::one_hot(right.query, 4).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(right.mask, torch::tensor({1, 1, 1, 0, 1, 1, 1, 1}).to(torch::kBool).reshape({2, 4})));
  // The full session gave up its oldest event; its slots and side features moved left.
  const torch::Tensor items = right.features.at("item_id");
  EXPECT_TRUE(torch::equal(items.slice(1, 0, 2), longs({5, 6, 3, 4}, {2, 2})));
  EXPECT_EQ(items[1][2].item<int64_t>(), 5);
  EXPECT_EQ(right.features.at("genres")[1][0][0].item<int64_t>(), 2 + 3 % 5);

  const MaskedBatch left = mlm.inference(model_test_batch({{5, 6}, {2, 3, 4, 5}}, 4, PaddingSide::Left));
  EXPECT_TRUE(torch::equal(left.query, longs({3, 3}, {2})));
  EXPECT_TRUE(torch::equal(left.features.at("item_id").slice(1, 0, 3), longs({0, 5, 6, 3, 4, 5}, {2, 3})));
  EXPECT_TRUE(torch::equal(left.mask, torch::tensor({0, 1, 1, 1, 1, 1, 1, 1}).to(torch::kBool).reshape({2, 4})));
}

}  // namespace
}  // namespace seqrec::model
