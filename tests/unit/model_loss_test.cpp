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
