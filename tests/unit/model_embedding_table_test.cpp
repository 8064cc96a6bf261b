// The local embedding table: lookups, and the tied output layer's ranks and top-k against
// whole score matrices.
#include <gtest/gtest.h>

#include <limits>

#include "seqrec/data/schema.h"
#include "seqrec/model/embedding_table.h"
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

INSTANTIATE_TEST_SUITE_P(Sizes, ModelTableRanking, testing::Values(300, 140000));

TEST(ModelEmbeddingTable, BestOfBreaksTiesByLowerId) {
  const torch::Tensor scores = torch::tensor({{1.0f, 2.0f, 2.0f, 0.5f}});
  const torch::Tensor ids = torch::tensor({{4, 9, 3, 1}});
  const auto [s, i] = best_of(scores, ids, 3);
  EXPECT_TRUE(torch::equal(i, torch::tensor({{3, 9, 4}})));
  EXPECT_TRUE(torch::equal(s, torch::tensor({{2.0f, 2.0f, 1.0f}})));
}

}  // namespace
}  // namespace seqrec::model
