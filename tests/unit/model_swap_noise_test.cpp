#include <gtest/gtest.h>

#include "seqrec/model/keyed_random.h"
#include "seqrec/model/recommender.h"
#include "seqrec/model/stochastic_shared_embeddings.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::model_test_batch;
using test::model_test_schema;
using test::small_model_options;

TEST(ModelSwapNoise, SwapsTheGivenShareOfRealEventsForRealItems) {
  const int64_t sessions = 400, length = 50, cardinality = 30;
  const torch::Tensor items = torch::randint(kFirstRealId, cardinality, {sessions, length}, torch::kInt64);
  torch::Tensor mask = torch::ones({sessions, length}, torch::kBool);
  mask.slice(1, 40).fill_(false);
  const torch::Tensor keys = slot_keys(torch::arange(sessions), length);
  const torch::Tensor swapped = swap_ids(items, mask, keys, 0.1, cardinality, 3);

  // A swap may draw the same item again (1 in 28): the share of changed events is p * 27/28.
  const double changed = (swapped != items).masked_select(mask).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(changed, 0.1 * 27 / 28, 0.01);
  EXPECT_TRUE(torch::equal(swapped.masked_select(mask.logical_not()), items.masked_select(mask.logical_not())));
  EXPECT_GE(swapped.min().item<int64_t>(), kFirstRealId);
  EXPECT_LT(swapped.max().item<int64_t>(), cardinality);
  // Keyed: a session's swaps do not depend on the others in its batch, and follow the seed.
  EXPECT_TRUE(torch::equal(swap_ids(items.slice(0, 7, 9), mask.slice(0, 7, 9), keys.slice(0, 7, 9), 0.1,
                                      cardinality, 3),
                           swapped.slice(0, 7, 9)));
  EXPECT_FALSE(torch::equal(swap_ids(items, mask, keys, 0.1, cardinality, 4), swapped));
  EXPECT_TRUE(torch::equal(swap_ids(items, mask, keys, 0.0, cardinality, 3), items));
}

TEST(ModelSwapNoise, ReservedIdsAreNeverSwapped) {
  const torch::Tensor items = torch::tensor({kUnknownId, kUnknownId, int64_t{5}}, torch::kInt64).reshape({1, 3});
  const torch::Tensor mask = torch::ones({1, 3}, torch::kBool);
  const torch::Tensor swapped = swap_ids(items, mask, slot_keys(torch::zeros({1}, torch::kInt64), 3), 0.999, 30, 1);
  EXPECT_EQ(swapped[0][0].item<int64_t>(), kUnknownId);
  EXPECT_EQ(swapped[0][1].item<int64_t>(), kUnknownId);
}

TEST(ModelSwapNoise, SwapsTheInputsOfTrainingOnly) {
  ModelOptions plain = small_model_options("sasrec", "clm", "ce");
  ModelOptions noisy = plain;
  noisy.swap_probability = 0.5;
  const Schema schema = model_test_schema(1000);
  torch::manual_seed(0);
  Recommender a = build_recommender(plain, schema);
  torch::manual_seed(0);
  Recommender b = build_recommender(noisy, schema);
  const Batch batch = model_test_batch({{5, 6, 7, 8, 9, 10}, {11, 12, 13}}, 8);
  const LossOutput clean = a->training_loss(batch, 1);
  const LossOutput swapped = b->training_loss(batch, 1);
  // Same weights (seeded alike), same labels; only what the body saw differs.
  EXPECT_EQ(clean.labels, swapped.labels);
  EXPECT_NE(clean.loss_sum.item<double>(), swapped.loss_sum.item<double>());
  EXPECT_TRUE(torch::equal(a->query_states(batch), b->query_states(batch)));
}

}  // namespace
}  // namespace seqrec::model
