#include <gtest/gtest.h>

#include <cmath>

#include "seqrec/data/schema.h"
#include "seqrec/model/item_loss.h"

namespace seqrec::model {
namespace {

double score_of(const torch::Tensor& a, const torch::Tensor& b) { return (a * b).sum().item<double>(); }

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
    expected += (std::log(sum) - positive) / 2;
  }
  EXPECT_NEAR(sampled_softmax_loss(hidden, labels, items, negatives, log_q).item<double>(), expected, 1e-5);
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
    expected += ((1 - smoothing) * nll - smoothing * log_p[n].mean().item<double>()) / 3;
  }
  EXPECT_NEAR(FullSoftmaxLossImpl(smoothing).forward(hidden, labels, items).item<double>(), expected, 1e-5);
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
    expected -= (log_sigmoid(score_of(hidden[n], items[labels[n].item<int64_t>()])) +
                 log_sigmoid(-score_of(hidden[n], items[3]))) / 2;
  }
  EXPECT_NEAR(loss.forward(hidden, labels, items).item<double>(), expected, 1e-5);
}

TEST(ModelLosses, UniformDistributionNeverDrawsReservedIds) {
  const torch::Tensor q = uniform_item_distribution(6);
  EXPECT_TRUE(torch::allclose(q, torch::tensor({0.0, 0.0, 0.25, 0.25, 0.25, 0.25}, torch::kFloat32)));
  torch::manual_seed(4);
  EXPECT_GE(torch::multinomial(q, 1000, /*replacement=*/true).min().item<int64_t>(), kFirstRealId);
}

}  // namespace
}  // namespace seqrec::model
