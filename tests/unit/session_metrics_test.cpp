// Session tasks' metrics and the sampled protocol, against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "seqrec/core/error.h"
#include "seqrec/data/schema.h"
#include "seqrec/model/evaluation_negatives.h"
#include "seqrec/model/item_loss.h"
#include "seqrec/model/ranking_metrics.h"
#include "seqrec/model/session_metrics.h"

namespace seqrec::model {
namespace {

SessionTask binary_task() {
  SessionTask task;
  task.feature = "member";
  return task;
}

TEST(SessionMetricsTest, AucByHand) {
  // Positives 0.35 and 0.8 against negatives 0.1 and 0.4: three of four pairs ordered.
  EXPECT_DOUBLE_EQ(binary_auc(torch::tensor({0.1, 0.4, 0.35, 0.8}), torch::tensor({0, 0, 1, 1})), 0.75);
  // A tie between a positive and a negative counts one half.
  EXPECT_DOUBLE_EQ(binary_auc(torch::tensor({0.5, 0.5, 0.9}), torch::tensor({1, 0, 1})), 0.75);
  EXPECT_DOUBLE_EQ(binary_auc(torch::tensor({3.0, 2.0, 1.0}), torch::tensor({1, 1, 0})), 1.0);
  EXPECT_TRUE(std::isnan(binary_auc(torch::tensor({1.0, 2.0}), torch::tensor({1, 1}))));
}

TEST(SessionMetricsTest, BinaryClassificationByHand) {
  SessionTaskMetrics metrics(binary_task());
  // Logits 2, -1, 0.5, 3 for ids 3 (positive), 2, 2, 1 (unknown: left out).
  metrics.add(torch::tensor({2.0f, -1.0f, 0.5f, 3.0f}), torch::tensor({3, 2, 2, 1}));
  // Batches combine: logit -0.2 for a positive.
  metrics.add(torch::tensor({-0.2f}), torch::tensor({3}));
  const auto r = metrics.results();
  const auto bce = [](double z, double y) { return std::log1p(std::exp(-z)) + (1 - y) * z; };
  EXPECT_DOUBLE_EQ(r.at("member/accuracy"), 2.0 / 4);  // right: 2 and -1; wrong: 0.5 and -0.2
  EXPECT_NEAR(r.at("member/log_loss"), (bce(2, 1) + bce(-1, 0) + bce(0.5, 0) + bce(-0.2, 1)) / 4, 1e-6);
  // Positives 2 and -0.2 against negatives -1 and 0.5: three of four pairs ordered.
  EXPECT_DOUBLE_EQ(r.at("member/auc"), 0.75);
  EXPECT_EQ(metrics.sums()[0], 4);
}

TEST(SessionMetricsTest, RegressionByHand) {
  SessionTask task;
  task.kind = TaskKind::Regress;
  task.feature = "age";
  SessionTaskMetrics metrics(task);
  metrics.add(torch::tensor({30.0f, 20.0f, 41.0f}), torch::tensor({33.0f, 20.0f, NAN}));
  metrics.add(torch::tensor({10.0f}), torch::tensor({14.0f}));
  const auto r = metrics.results();
  EXPECT_NEAR(r.at("age/rmse"), std::sqrt((9.0 + 0 + 16) / 3), 1e-12);
  EXPECT_NEAR(r.at("age/mae"), (3.0 + 0 + 4) / 3, 1e-12);
  EXPECT_FALSE(r.count("age/auc"));
}

TEST(SessionMetricsTest, MulticlassAccuracyAndLogLoss) {
  SessionTask task;
  task.feature = "job";
  task.outputs = 3;
  SessionTaskMetrics metrics(task);
  const torch::Tensor logits = torch::tensor({{0.0f, 1.0f, 0.0f}, {2.0f, 0.0f, 0.0f}});
  metrics.add(logits, torch::tensor({3, 4}));  // classes 1 (right) and 2 (wrong)
  const auto r = metrics.results();
  EXPECT_DOUBLE_EQ(r.at("job/accuracy"), 0.5);
  const double expected = (-std::log(std::exp(1.0) / (2 + std::exp(1.0))) - std::log(1 / (2 + std::exp(2.0)))) / 2;
  EXPECT_NEAR(r.at("job/log_loss"), expected, 1e-6);
  EXPECT_FALSE(r.count("job/auc"));
}

TEST(SessionMetricsTest, ErrorsAreMinimisedRankingAndAucMaximised) {
  EXPECT_TRUE(lower_is_better("age/rmse"));
  EXPECT_TRUE(lower_is_better("age/mae"));
  EXPECT_TRUE(lower_is_better("member/log_loss"));
  EXPECT_FALSE(lower_is_better("member/auc"));
  EXPECT_FALSE(lower_is_better("ndcg@10"));
  EXPECT_FALSE(lower_is_better("sampled_ndcg@10"));
}

TEST(SampledProtocolTest, CandidateRanksByHand) {
  // Column 0 is the target. Row 0: one candidate above it; row 1: one tie, counted against it.
  const torch::Tensor ranks = candidate_ranks(torch::tensor({{0.5, 0.9, 0.1}, {0.7, 0.2, 0.7}}));
  EXPECT_TRUE(torch::equal(ranks, torch::tensor({1, 1})));
  RankingMetrics metrics({1, 2});
  metrics.add_ranks(ranks);
  EXPECT_DOUBLE_EQ(metrics.results().at("hr@1"), 0.0);
  EXPECT_DOUBLE_EQ(metrics.results().at("ndcg@2"), 1 / std::log2(3.0));
}

TEST(SampledProtocolTest, NegativesAreDistinctNeverTheTargetOrHistoryAndKeyedBySession) {
  const int64_t items = 30;
  const torch::Tensor cdf = distribution_cdf(uniform_item_distribution(items));
  const torch::Tensor sessions = torch::tensor({7, 8, 9});
  const torch::Tensor targets = torch::tensor({2, 5, 29});
  const torch::Tensor history = torch::tensor({{3, 4, 5, 0}, {5, 6, 7, 8}, {2, 2, 0, 0}});
  const torch::Tensor negatives = draw_evaluation_negatives(sessions, targets, history, 20, cdf, 99);
  ASSERT_EQ(negatives.sizes(), (std::vector<int64_t>{3, 20}));
  for (int64_t b = 0; b < 3; ++b) {
    std::set<int64_t> seen;
    for (int64_t j = 0; j < 20; ++j) {
      const int64_t id = negatives[b][j].item<int64_t>();
      EXPECT_GE(id, kFirstRealId);
      EXPECT_LT(id, items);
      EXPECT_NE(id, targets[b].item<int64_t>());
      EXPECT_FALSE((history[b] == id).any().item<bool>()) << "session " << b << " item " << id;
      EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
    }
  }
  // Session 8 alone, or in another batch, draws what it drew here; another seed differs.
  const torch::Tensor alone = draw_evaluation_negatives(torch::tensor({8}), torch::tensor({5}), history.slice(0, 1, 2),
                                                        20, cdf, 99);
  EXPECT_TRUE(torch::equal(alone[0], negatives[1]));
  EXPECT_FALSE(torch::equal(draw_evaluation_negatives(sessions, targets, history, 20, cdf, 100), negatives));
  // Without history exclusion history items may be drawn; never the target.
  const torch::Tensor any = draw_evaluation_negatives(sessions, targets, {}, 27, cdf, 99);
  EXPECT_FALSE((any == targets.unsqueeze(1)).any().item<bool>());
  // 28 real items, minus the target, minus session 7's three history items: 24 to draw.
  EXPECT_NO_THROW(draw_evaluation_negatives(sessions.slice(0, 0, 1), targets.slice(0, 0, 1), history.slice(0, 0, 1),
                                            24, cdf, 1));
  EXPECT_THROW(draw_evaluation_negatives(sessions.slice(0, 0, 1), targets.slice(0, 0, 1), history.slice(0, 0, 1), 25,
                                         cdf, 1),
               UserError);
}

TEST(SampledProtocolTest, PopularityDrawsOnlyItemsWithCounts) {
  torch::Tensor counts = torch::zeros({12});
  counts.slice(0, 2, 8).fill_(1);  // items 2..7
  counts[3] = 50;
  const torch::Tensor negatives = draw_evaluation_negatives(torch::arange(40), torch::full({40}, 3, torch::kLong), {},
                                                            5, distribution_cdf(counts), 4);
  EXPECT_TRUE(((negatives >= 2) & (negatives < 8) & (negatives != 3)).all().item<bool>());
}

}  // namespace
}  // namespace seqrec::model
