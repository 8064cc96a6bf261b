#include <gtest/gtest.h>

#include <cmath>

#include "seqrec/data/schema.h"
#include "seqrec/model/item_loss.h"
#include "seqrec/model/keyed_random.h"

namespace seqrec::model {
namespace {

double score_of(const torch::Tensor& a, const torch::Tensor& b) { return (a * b).sum().item<double>(); }

// A local table holding exactly `rows`.
std::shared_ptr<LocalEmbeddingTableImpl> table_of(const torch::Tensor& rows) {
  TableSpec spec;
  spec.name = "item_id";
  spec.rows = rows.size(0);
  spec.dim = rows.size(1);
  auto table = std::make_shared<LocalEmbeddingTableImpl>(spec);
  torch::NoGradGuard no_grad;
  table->weight().copy_(rows);
  return table;
}

TEST(ModelLosses, SampledSoftmaxMasksAccidentalHitsAndCorrectsLogQ) {
  torch::manual_seed(1);
  const torch::Tensor hidden = torch::randn({2, 3});
  const torch::Tensor items = torch::randn({6, 3});
  const torch::Tensor labels = torch::tensor({2, 4}, torch::kInt64);
  const torch::Tensor negatives = torch::tensor({3, 4, 5, 4}, torch::kInt64);
  const std::vector<double> q = {0, 0, 0.1, 0.2, 0.3, 0.4};
  const torch::Tensor log_q = torch::tensor(q, torch::kFloat32).log();

  double expected = 0;
  for (int64_t n = 0; n < 2; ++n) {
    const int64_t label = labels[n].item<int64_t>();
    const double positive = score_of(hidden[n], items[label]) - std::log(q[label]);
    double sum = std::exp(positive);
    for (int64_t k = 0; k < 4; ++k) {
      const int64_t negative = negatives[k].item<int64_t>();
      if (negative != label) sum += std::exp(score_of(hidden[n], items[negative]) - std::log(q[negative]));
    }
    expected += std::log(sum) - positive;
  }
  const torch::Tensor loss = sampled_softmax_loss(hidden, labels, items.index_select(0, labels), negatives,
                                                  items.index_select(0, negatives), log_q);
  EXPECT_NEAR(loss.item<double>(), expected, 1e-5);
}

TEST(ModelLosses, SampledSoftmaxWithNegativesPerPosition) {
  torch::manual_seed(4);
  const torch::Tensor hidden = torch::randn({2, 3});
  const torch::Tensor items = torch::randn({6, 3});
  const torch::Tensor labels = torch::tensor({2, 4}, torch::kInt64);
  const torch::Tensor negatives = torch::tensor({{3, 2, 5}, {4, 5, 5}}, torch::kInt64);
  const std::vector<double> q = {0, 0, 0.1, 0.2, 0.3, 0.4};
  const torch::Tensor log_q = torch::tensor(q, torch::kFloat32).log();

  double expected = 0;
  for (int64_t n = 0; n < 2; ++n) {
    const int64_t label = labels[n].item<int64_t>();
    const double positive = score_of(hidden[n], items[label]) - std::log(q[label]);
    double sum = std::exp(positive);
    for (int64_t k = 0; k < 3; ++k) {
      const int64_t negative = negatives[n][k].item<int64_t>();
      if (negative != label) sum += std::exp(score_of(hidden[n], items[negative]) - std::log(q[negative]));
    }
    expected += std::log(sum) - positive;
  }
  const torch::Tensor rows = items.index_select(0, negatives.flatten()).view({2, 3, 3});
  const torch::Tensor loss =
      sampled_softmax_loss(hidden, labels, items.index_select(0, labels), negatives, rows, log_q);
  EXPECT_NEAR(loss.item<double>(), expected, 1e-5);
}

// Fresh negatives per position are keyed by the position: the same key draws the same
// negatives, another key others.
TEST(ModelLosses, PerPositionNegativesFollowThePositionKey) {
  torch::manual_seed(5);
  const torch::Tensor items = torch::randn({50, 4});
  const torch::Tensor query = torch::randn({1, 4});
  SampledSoftmaxLossImpl loss(uniform_item_distribution(50), 5, /*per_position=*/true);
  // Positions alike in all but their keys.
  const auto loss_of = [&](const std::vector<int64_t>& keys) {
    const auto n = static_cast<int64_t>(keys.size());
    const LabelledPositions p{query.expand({n, 4}).contiguous(), torch::full({n}, 7, torch::kInt64),
                              torch::tensor(keys, torch::kInt64)};
    return loss.forward(p, *table_of(items), 9).item<double>();
  };
  EXPECT_DOUBLE_EQ(loss_of({3, 3}), 2 * loss_of({3}));
  EXPECT_NE(loss_of({3, 4}), 2 * loss_of({3}));
}

TEST(ModelLosses, FullSoftmaxLeavesReservedIdsOutAndSmoothsOverRealItems) {
  torch::manual_seed(2);
  const torch::Tensor hidden = torch::randn({3, 4});
  const torch::Tensor items = torch::randn({7, 4});
  const torch::Tensor labels = torch::tensor({2, 6, 3}, torch::kInt64);
  const double smoothing = 0.1;

  const torch::Tensor log_p = torch::log_softmax(hidden.matmul(items.slice(0, 2).t()), 1);  // 5 real items
  double expected = 0;
  for (int64_t n = 0; n < 3; ++n) {
    const double nll = -log_p[n][labels[n].item<int64_t>() - 2].item<double>();
    expected += (1 - smoothing) * nll - smoothing * log_p[n].mean().item<double>();
  }
  const torch::Tensor loss = FullSoftmaxLossImpl(smoothing).forward({hidden, labels, labels}, *table_of(items), 0);
  EXPECT_NEAR(loss.item<double>(), expected, 1e-5);
}

TEST(ModelLosses, TemperatureDividesEveryScore) {
  torch::manual_seed(4);
  const torch::Tensor hidden = torch::randn({3, 4});
  const torch::Tensor items = torch::randn({7, 4});
  const torch::Tensor labels = torch::tensor({2, 6, 3}, torch::kInt64);
  const auto table = table_of(items);
  const double temperature = 0.25;
  const torch::Tensor log_p = torch::log_softmax(hidden.matmul(items.slice(0, 2).t()) / temperature, 1);
  double expected = 0;
  for (int64_t n = 0; n < 3; ++n) expected -= log_p[n][labels[n].item<int64_t>() - 2].item<double>();
  TemperedLossImpl tempered(std::make_shared<FullSoftmaxLossImpl>(0.0), temperature);
  EXPECT_NEAR(tempered.forward({hidden, labels, labels}, *table, 0).item<double>(), expected, 1e-4);
  // Sampled softmax: logQ is subtracted from the tempered score, not divided with it.
  const torch::Tensor q = uniform_item_distribution(7);
  SampledSoftmaxLossImpl plain(q, 3, true);
  TemperedLossImpl tempered_sampled(std::make_shared<SampledSoftmaxLossImpl>(q, 3, true), temperature);
  EXPECT_NEAR(tempered_sampled.forward({hidden, labels, labels}, *table, 5).item<double>(),
              plain.forward({hidden / temperature, labels, labels}, *table, 5).item<double>(), 1e-5);
}

TEST(ModelLosses, NegativesAreDrawnIndependentlyOfMasks) {
  // MLM hides a slot when its mask uniform is below p; were its negative drawn from the same
  // uniform, hidden slots would only ever meet the first p of the catalog.
  const torch::Tensor keys = torch::arange(20000);
  const torch::Tensor hidden = keyed_uniform(keys, draw_seed(7, Draw::Mask)) < 0.2;
  const torch::Tensor negatives =
      sample_items(keyed_uniform(keys, draw_seed(7, Draw::Negative)), distribution_cdf(uniform_item_distribution(1002)));
  const double mean_at_hidden = negatives.masked_select(hidden).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(mean_at_hidden, 502.0, 15.0);
}

TEST(ModelLosses, BinaryCrossEntropyAgainstOneNegativePerPosition) {
  torch::manual_seed(3);
  const torch::Tensor hidden = torch::randn({2, 4});
  const torch::Tensor items = torch::randn({5, 4});
  const torch::Tensor labels = torch::tensor({2, 4}, torch::kInt64);
  // All mass on item 3: the negative of every position is known.
  BinaryCrossEntropyLossImpl loss(torch::tensor({0.0, 0.0, 0.0, 1.0, 0.0}, torch::kFloat32));

  const auto log_sigmoid = [](double x) { return -std::log1p(std::exp(-x)); };
  double expected = 0;
  for (int64_t n = 0; n < 2; ++n) {
    expected -= log_sigmoid(score_of(hidden[n], items[labels[n].item<int64_t>()])) +
                log_sigmoid(-score_of(hidden[n], items[3]));
  }
  const torch::Tensor keys = torch::tensor({10, 11}, torch::kInt64);
  EXPECT_NEAR(loss.forward({hidden, labels, keys}, *table_of(items), 0).item<double>(), expected, 1e-5);
}

// GRU4Rec's ranking losses, position by position in doubles: softmax weights over the
// negatives that are not the label.
double ranking_max_reference(RankingMax kind, const torch::Tensor& positive, const torch::Tensor& negative,
                             const torch::Tensor& excluded, double lambda) {
  const auto sigmoid = [](double x) { return 1 / (1 + std::exp(-x)); };
  double total = 0;
  for (int64_t n = 0; n < negative.size(0); ++n) {
    const double r_i = positive[n].item<double>();
    double normaliser = 0;
    for (int64_t k = 0; k < negative.size(1); ++k) {
      if (!excluded[n][k].item<bool>()) normaliser += std::exp(negative[n][k].item<double>());
    }
    if (normaliser == 0) continue;
    double ranked_above = 0, penalty = 0, top1 = 0;
    for (int64_t k = 0; k < negative.size(1); ++k) {
      if (excluded[n][k].item<bool>()) continue;
      const double r_j = negative[n][k].item<double>();
      const double s_j = std::exp(r_j) / normaliser;
      ranked_above += s_j * sigmoid(r_i - r_j);
      penalty += s_j * r_j * r_j;
      top1 += s_j * (sigmoid(r_j - r_i) + sigmoid(r_j * r_j));
    }
    total += kind == RankingMax::Bpr ? -std::log(ranked_above) + lambda * penalty : top1;
  }
  return total;
}

TEST(ModelLosses, BprMaxAndTop1MaxMatchTheirDefinitions) {
  torch::manual_seed(6);
  const torch::Tensor positive = torch::randn({4}) * 2;
  const torch::Tensor negative = torch::randn({4, 5}) * 2;
  torch::Tensor excluded = torch::zeros({4, 5}, torch::kBool);
  excluded[0][1] = true;
  excluded[2][0] = true;
  excluded[2][4] = true;
  excluded[3].fill_(true);  // every negative is the label: the position adds nothing
  for (const double lambda : {0.0, 0.5}) {
    EXPECT_NEAR(bpr_max_loss(positive, negative, excluded, lambda).item<double>(),
                ranking_max_reference(RankingMax::Bpr, positive, negative, excluded, lambda), 1e-5);
  }
  EXPECT_NEAR(top1_max_loss(positive, negative, excluded).item<double>(),
              ranking_max_reference(RankingMax::Top1, positive, negative, excluded, 0), 1e-5);
  // A label far below its negatives: BPR-max stays finite (no log of an underflowed sum).
  const torch::Tensor far = bpr_max_loss(torch::full({1}, -200.0), torch::full({1, 3}, 200.0),
                                         torch::zeros({1, 3}, torch::kBool), 0);
  EXPECT_NEAR(far.item<double>(), 400, 1e-2);
}

TEST(ModelLosses, RankingMaxLossesDrawTheirNegativesAndPassGradients) {
  for (const RankingMax kind : {RankingMax::Bpr, RankingMax::Top1}) {
    torch::manual_seed(7);
    const torch::Tensor hidden = torch::randn({3, 4}).requires_grad_();
    const auto table = table_of(torch::randn({5, 4}));
    const torch::Tensor labels = torch::tensor({2, 3, 4}, torch::kInt64);
    // All mass on item 3: every negative is item 3, so the label-3 position adds nothing.
    RankingMaxLossImpl loss(kind, torch::tensor({0.0, 0.0, 0.0, 1.0, 0.0}, torch::kFloat32), 2,
                            /*per_position=*/true, 0.7);
    const torch::Tensor out = loss.forward({hidden, labels, torch::tensor({1, 2, 3}, torch::kInt64)}, *table, 0);

    const torch::Tensor rows = table->weight().detach();
    const torch::Tensor positive = (hidden.detach() * rows.index_select(0, labels)).sum(1);
    const torch::Tensor negative = hidden.detach().matmul(rows[3]).unsqueeze(1).expand({3, 2});
    const torch::Tensor excluded = (labels == 3).unsqueeze(1).expand({3, 2});
    EXPECT_NEAR(out.item<double>(), ranking_max_reference(kind, positive, negative, excluded, 0.7), 1e-5);

    out.backward();
    EXPECT_TRUE(hidden.grad().isfinite().all().item<bool>());
    EXPECT_GT(hidden.grad()[0].abs().sum().item<double>(), 0);
    EXPECT_EQ(hidden.grad()[1].abs().sum().item<double>(), 0);  // no usable negative
    const torch::Tensor row_grads = table->weight().grad().abs().sum(1);
    EXPECT_GT(row_grads[2].item<double>(), 0);  // a label's row
    EXPECT_GT(row_grads[3].item<double>(), 0);  // the negatives' row
    EXPECT_EQ(row_grads[1].item<double>(), 0);  // never drawn, never a label
  }
}

// No labelled positions (a rank's share may have none): zero, and the table still joins.
TEST(ModelLosses, RankingMaxLossWithoutPositions) {
  const auto table = table_of(torch::randn({6, 4}));
  RankingMaxLossImpl loss(RankingMax::Bpr, uniform_item_distribution(6), 3, true, 1.0);
  const torch::Tensor out = loss.forward({torch::zeros({0, 4}), torch::zeros({0}, torch::kInt64),
                                          torch::zeros({0}, torch::kInt64)},
                                         *table, 1);
  EXPECT_EQ(out.item<double>(), 0);
  out.backward();
  EXPECT_TRUE(table->weight().grad().defined());
}

TEST(ModelLosses, UniformDistributionNeverDrawsReservedIds) {
  const torch::Tensor q = uniform_item_distribution(6);
  EXPECT_TRUE(torch::allclose(q, torch::tensor({0.0, 0.0, 0.25, 0.25, 0.25, 0.25}, torch::kFloat32)));
  const torch::Tensor drawn = sample_items(keyed_uniform(torch::arange(4000), 4), distribution_cdf(q));
  EXPECT_GE(drawn.min().item<int64_t>(), kFirstRealId);
  EXPECT_EQ(drawn.max().item<int64_t>(), 5);
  // Each real item about a quarter of the draws.
  const torch::Tensor counts = torch::bincount(drawn, {}, 6).to(torch::kFloat64) / 4000;
  EXPECT_TRUE(torch::allclose(counts.slice(0, 2), torch::full({4}, 0.25, torch::kFloat64), 0, 0.03));
}

TEST(ModelLosses, KeyedDrawsDependOnKeyAndSeedOnly) {
  const torch::Tensor keys = torch::tensor({5, 9, 5, 1000000007}, torch::kInt64);
  const torch::Tensor u = keyed_uniform(keys, 3);
  EXPECT_EQ(u[0].item<float>(), u[2].item<float>());
  EXPECT_TRUE(torch::equal(keyed_uniform(keys.slice(0, 1), 3), u.slice(0, 1)));
  EXPECT_FALSE(torch::equal(keyed_uniform(keys, 4), u));
  EXPECT_TRUE(((u >= 0) & (u < 1)).all().item<bool>());
}

}  // namespace
}  // namespace seqrec::model
