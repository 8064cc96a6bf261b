// Ranking metrics against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "seqrec/model/ranking_metrics.h"

namespace seqrec::model {
namespace {

TEST(RankingMetricsTest, HandComputedTwoSessions) {
  // Session 0: target 3 scores 0.9, highest: rank 0.
  // Session 1: target 1 scores 0.5; items 0, 2 and 4 score higher: rank 3.
  const torch::Tensor scores = torch::tensor({{0.1, 0.2, 0.3, 0.9, 0.0},
                                              {0.8, 0.5, 0.7, 0.1, 0.6}});
  const torch::Tensor targets = torch::tensor({3, 1});
  RankingMetrics metrics({1, 3, 5});
  metrics.add(scores, targets);
  const auto r = metrics.results();
  EXPECT_EQ(metrics.count(), 2);
  EXPECT_DOUBLE_EQ(r.at("hr@1"), 0.5);
  EXPECT_DOUBLE_EQ(r.at("hr@3"), 0.5);
  EXPECT_DOUBLE_EQ(r.at("hr@5"), 1.0);
  EXPECT_DOUBLE_EQ(r.at("ndcg@3"), 0.5);
  EXPECT_NEAR(r.at("ndcg@5"), (1.0 + 1.0 / std::log2(5.0)) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(r.at("mrr@5"), (1.0 + 0.25) / 2);
  EXPECT_DOUBLE_EQ(r.at("map@5"), (1.0 + 0.25) / 2);
  EXPECT_DOUBLE_EQ(r.at("precision@5"), (0.2 + 0.2) / 2);
  EXPECT_DOUBLE_EQ(r.at("precision@1"), 0.5);
  EXPECT_DOUBLE_EQ(r.at("mrr"), (1.0 + 0.25) / 2);
}

TEST(RankingMetricsTest, TiesCountAgainstTheTarget) {
  RankingMetrics metrics({1, 4});
  metrics.add(torch::zeros({1, 4}), torch::tensor({2}));
  EXPECT_DOUBLE_EQ(metrics.results().at("hr@1"), 0.0);
  EXPECT_DOUBLE_EQ(metrics.results().at("mrr"), 0.25);  // last of four
}

TEST(RankingMetricsTest, ExcludedHistoryItemsDropOutButTheTargetStays) {
  // Items 0 and 4 outscore the target 1; 4 is in the history, and so is the target.
  const torch::Tensor scores = torch::tensor({{0.9, 0.5, 0.1, 0.2, 0.8}});
  RankingMetrics plain({1, 2}), excluding({1, 2}), padded({1, 2});
  plain.add(scores, torch::tensor({1}));
  excluding.add(scores, torch::tensor({1}), torch::tensor({{4, 1}}));
  // A padded history row excludes id 0, the padding id, which is never a real item.
  padded.add(scores, torch::tensor({1}), torch::tensor({{4, 1, 0}}));
  EXPECT_DOUBLE_EQ(plain.results().at("mrr"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(excluding.results().at("mrr"), 0.5);  // only item 0 stays above it
  EXPECT_DOUBLE_EQ(excluding.results().at("hr@2"), 1.0);
  EXPECT_DOUBLE_EQ(padded.results().at("mrr"), 1.0);
}

TEST(RankingMetricsTest, SampledProtocolRanksAmongCandidatesOnly) {
  const torch::Tensor scores = torch::tensor({{0.9, 0.5, 0.1, 0.2, 0.8, 0.3}});
  RankingMetrics metrics({1});
  metrics.add_sampled(scores, torch::tensor({1}), torch::tensor({{2, 3, 5}}));
  EXPECT_DOUBLE_EQ(metrics.results().at("hr@1"), 1.0);  // 0 and 4 outscore it but are not sampled
}

TEST(RankingMetricsTest, SumsCombineLikeOneAccumulator) {
  const torch::Tensor scores = torch::rand({6, 20});
  const torch::Tensor targets = torch::randint(0, 20, {6});
  RankingMetrics whole, first, second;
  whole.add(scores, targets);
  first.add(scores.slice(0, 0, 4), targets.slice(0, 0, 4));
  second.add(scores.slice(0, 4, 6), targets.slice(0, 4, 6));
  std::vector<double> sums = first.sums();
  const std::vector<double> more = second.sums();
  for (size_t i = 0; i < sums.size(); ++i) sums[i] += more[i];
  RankingMetrics combined;
  combined.set_sums(sums);
  for (const auto& [name, value] : whole.results()) EXPECT_NEAR(combined.results().at(name), value, 1e-12) << name;
}

}  // namespace
}  // namespace seqrec::model
