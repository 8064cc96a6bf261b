// The local embedding table: lookups, and the tied output layer's ranks, top-k and draws
// against whole score matrices.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "seqrec/data/schema.h"
#include "seqrec/model/embedding_table.h"
#include "seqrec/model/keyed_random.h"
#include "seqrec/model/ranking_metrics.h"

namespace seqrec::model {
namespace {

std::shared_ptr<LocalEmbeddingTableImpl> table(int64_t rows, int64_t dim, uint64_t seed = 1) {
  TableSpec spec;
  spec.name = "item_id";
  spec.rows = rows;
  spec.dim = dim;
  spec.seed = seed;
  return std::make_shared<LocalEmbeddingTableImpl>(spec);
}

TEST(ModelEmbeddingTable, InitialRowsDependOnSeedAndIdOnly) {
  const torch::Tensor all = initial_rows(torch::arange(50), 6, 0.02, 9);
  EXPECT_TRUE(torch::equal(initial_rows(torch::tensor({7, 3, 41}), 6, 0.02, 9), all.index_select(0, torch::tensor({7, 3, 41}))));
  EXPECT_TRUE(torch::equal(all[kPaddingId], torch::zeros({6})));
  EXPECT_FALSE(torch::equal(initial_rows(torch::arange(50), 6, 0.02, 10), all));
  EXPECT_NEAR(all.slice(0, 1).std().item<double>(), 0.02, 0.004);
}

TEST(ModelEmbeddingTable, PaddingLooksUpZeroAndGetsNoGradient) {
  auto t = table(10, 4);
  const torch::Tensor out = t->forward(torch::tensor({{0, 3}, {3, 9}}));
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 2, 4}));
  EXPECT_TRUE(torch::equal(out[0][0], torch::zeros({4})));
  out.sum().backward();
  EXPECT_TRUE(torch::equal(t->weight().grad()[0], torch::zeros({4})));
  EXPECT_TRUE(torch::equal(t->weight().grad()[3], torch::full({4}, 2.0)));
}

// Ranks and top-k against the whole score matrix, on a table small enough for one chunk
// of classes and on one spanning several.
class ModelTableRanking : public testing::TestWithParam<int64_t> {};

TEST_P(ModelTableRanking, RanksAndTopKMatchTheWholeScoreMatrix) {
  const int64_t rows = GetParam();
  auto t = table(rows, 8, 3);
  torch::manual_seed(4);
  const torch::Tensor hidden = torch::randn({5, 8});
  const torch::Tensor targets = torch::randint(kFirstRealId, rows, {5});
  torch::Tensor exclude = torch::randint(0, rows, {5, 6});
  exclude[1][2] = targets[1];  // an excluded target still competes

  torch::Tensor scores = hidden.matmul(t->weight().t()).detach();
  scores.slice(1, 0, kFirstRealId).fill_(-std::numeric_limits<float>::infinity());
  EXPECT_TRUE(torch::equal(t->target_ranks(hidden, targets, kFirstRealId, exclude),
                           ranks_from_scores(scores, targets, exclude)));
  EXPECT_TRUE(torch::equal(t->target_ranks(hidden, targets, kFirstRealId, {}), ranks_from_scores(scores, targets)));

  torch::Tensor masked = scores.clone().scatter_(1, exclude, -std::numeric_limits<float>::infinity());
  masked.slice(1, 0, kFirstRealId).fill_(-std::numeric_limits<float>::infinity());
  const auto [best_scores, best_ids] = t->top_k(hidden, 10, kFirstRealId, exclude);
  const auto [sorted_scores, sorted_ids] = masked.sort(/*stable=*/true, 1, /*descending=*/true);
  EXPECT_TRUE(torch::equal(best_ids, sorted_ids.slice(1, 0, 10)));
  EXPECT_TRUE(torch::equal(best_scores, sorted_scores.slice(1, 0, 10)));
}

TEST_P(ModelTableRanking, SampleIsTheGumbelMaxOfTheWholeScoreMatrix) {
  const int64_t rows = GetParam();
  auto t = table(rows, 8, 3);
  torch::manual_seed(5);
  const torch::Tensor hidden = torch::randn({6, 8}) * 20;  // peaked: draws follow the scores, not just the noise
  const torch::Tensor keys = torch::tensor({4, 9, 12, 100, 7, 1000000007}, torch::kLong);
  torch::Tensor scores = hidden.matmul(t->weight().t()).detach() + keyed_gumbel(keys, torch::arange(rows), 21);
  scores.slice(1, 0, kFirstRealId).fill_(-std::numeric_limits<float>::infinity());
  const torch::Tensor draws = t->sample(hidden, keys, kFirstRealId, 21);
  EXPECT_TRUE(torch::equal(draws, scores.argmax(1))) << draws << scores.argmax(1);
  EXPECT_FALSE(torch::equal(t->sample(hidden, keys, kFirstRealId, 22), draws)) << "another seed, other draws";
  // A position's draw is its own: the same alone as among others.
  EXPECT_TRUE(
      torch::equal(t->sample(hidden.slice(0, 3, 4), keys.slice(0, 3, 4), kFirstRealId, 21), draws.slice(0, 3, 4)));
}

INSTANTIATE_TEST_SUITE_P(Sizes, ModelTableRanking, testing::Values(300, 140000));

TEST(ModelKeyedGumbel, IsAFunctionOfSeedKeyAndIdWithGumbelMoments) {
  const torch::Tensor keys = torch::arange(200);
  const torch::Tensor ids = torch::arange(500);
  const torch::Tensor noise = keyed_gumbel(keys, ids, 3);
  ASSERT_EQ(noise.sizes(), (std::vector<int64_t>{200, 500}));
  const torch::Tensor some_keys = torch::tensor({17, 5}, torch::kLong);
  const torch::Tensor some_ids = torch::tensor({499, 2, 40}, torch::kLong);
  EXPECT_TRUE(torch::equal(keyed_gumbel(some_keys, some_ids, 3), noise.index({some_keys.unsqueeze(1), some_ids})));
  EXPECT_FALSE(torch::equal(keyed_gumbel(keys, ids, 4), noise));
  // Gumbel(0, 1): mean Euler's gamma, variance pi^2 / 6; 100,000 draws.
  EXPECT_NEAR(noise.mean().item<double>(), 0.5772, 0.015);
  EXPECT_NEAR(noise.var().item<double>(), M_PI * M_PI / 6, 0.05);
}

// What a GPU computes (elementwise tensor operations) is what the CPU's scalar loop
// computes: uniforms bit for bit, Gumbel noise to float32 rounding of its two logs. Keys
// span the int64 range, negatives included, so that the uint64 arithmetic in int64 tensors
// (wrapping products, right shifts without the sign) is exercised everywhere.
TEST(ModelKeyedRandom, ElementwiseDrawsEqualTheScalarOnes) {
  torch::Tensor keys = torch::randint(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                                      {40, 25}, torch::kLong);
  keys.index_put_({0, 0}, std::numeric_limits<int64_t>::min());
  keys.index_put_({0, 1}, -1);
  keys.index_put_({0, 2}, 0);
  keys.index_put_({0, 3}, std::numeric_limits<int64_t>::max());
  for (uint64_t seed : {uint64_t{0}, uint64_t{7}, ~uint64_t{0}}) {
    EXPECT_TRUE(torch::equal(keyed_uniform_elementwise(keys, seed), keyed_uniform(keys, seed))) << seed;
    const torch::Tensor ids = torch::arange(-3, 300, torch::kLong);
    const torch::Tensor expected = keyed_gumbel(keys.reshape({-1}), ids, seed);
    EXPECT_TRUE(torch::allclose(keyed_gumbel_elementwise(keys.reshape({-1}), ids, seed), expected, 1e-5, 1e-6))
        << seed;
  }
}

// Gumbel-max draws from the softmax: over many keys, each class's share of the draws is
// its softmax probability.
TEST(ModelEmbeddingTable, SampleDrawsFromTheSoftmaxAndNeverAReservedId) {
  auto t = table(6, 2);
  {
    torch::NoGradGuard no_grad;
    t->weight().copy_(torch::tensor({{0.0f, 0.0f}, {50.0f, 0.0f}, {1.0f, 0.0f}, {0.0f, 0.0f}, {-1.0f, 0.0f},
                                     {2.0f, 0.0f}}));
  }
  const int64_t n = 40000;
  const torch::Tensor hidden = torch::tensor({1.0f, 0.0f}).expand({n, 2});
  const torch::Tensor draws = t->sample(hidden, torch::arange(n), kFirstRealId, 8);
  EXPECT_GE(draws.min().item<int64_t>(), kFirstRealId) << "row 1 scores highest of all, yet is reserved";
  const torch::Tensor expected = torch::softmax(torch::tensor({1.0, 0.0, -1.0, 2.0}), 0);
  const torch::Tensor shares = torch::bincount(draws - kFirstRealId, {}, 4).to(torch::kDouble) / n;
  for (int64_t c = 0; c < 4; ++c) {
    const double p = expected[c].item<double>();
    EXPECT_NEAR(shares[c].item<double>(), p, 4 * std::sqrt(p * (1 - p) / n)) << "class " << c + kFirstRealId;
  }
}

TEST(ModelEmbeddingTable, BestOfBreaksTiesByLowerId) {
  const torch::Tensor scores = torch::tensor({{1.0f, 2.0f, 2.0f, 0.5f}});
  const torch::Tensor ids = torch::tensor({{4, 9, 3, 1}});
  const auto [s, i] = best_of(scores, ids, 3);
  EXPECT_TRUE(torch::equal(i, torch::tensor({{3, 9, 4}})));
  EXPECT_TRUE(torch::equal(s, torch::tensor({{2.0f, 2.0f, 1.0f}})));
}

}  // namespace
}  // namespace seqrec::model
