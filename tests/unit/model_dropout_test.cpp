#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include "seqrec/model/dropout.h"

namespace seqrec::model {
namespace {

TEST(ModelDropout, ZeroesTheGivenShareAndScalesTheRest) {
  torch::manual_seed(5);
  const torch::Tensor x = torch::rand({300, 1001}) + 1;  // no zeros of its own
  for (const double p : {0.1, 0.2, 0.5, 0.9}) {
    const torch::Tensor y = model::dropout(x, p, /*training=*/true);
    const torch::Tensor dropped = y == 0;
    EXPECT_NEAR(dropped.to(torch::kFloat64).mean().item<double>(), p, 0.005) << "p " << p;
    const torch::Tensor kept = dropped.logical_not();
    EXPECT_TRUE(torch::allclose(y.masked_select(kept), x.masked_select(kept) / (1 - p))) << "p " << p;
  }
  // Neighbouring elements share a 64-bit word: their drops must still be independent.
  const torch::Tensor y = model::dropout(x, 0.5, true).view(-1);
  const int64_t n = y.size(0) - 1;
  const double both = ((y.slice(0, 0, n) == 0) & (y.slice(0, 1) == 0)).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(both, 0.25, 0.005);
}

TEST(ModelDropout, IsTheIdentityOutsideTrainingAndAtZero) {
  const torch::Tensor x = torch::randn({4, 7});
  EXPECT_TRUE(model::dropout(x, 0.3, /*training=*/false).is_same(x));
  EXPECT_TRUE(model::dropout(x, 0.0, /*training=*/true).is_same(x));
  Dropout module(0.3);
  module->eval();
  EXPECT_TRUE(module(x).is_same(x));
  EXPECT_THROW(Dropout(1.0), std::exception);
}

TEST(ModelDropout, FollowsTorchSeedAndNotTheThreadCount) {
  const torch::Tensor x = torch::randn({64, 50, 50}, torch::kFloat64);
  const int threads = at::get_num_threads();
  torch::manual_seed(11);
  at::set_num_threads(1);
  const torch::Tensor one = model::dropout(x, 0.2, true);
  const torch::Tensor next = model::dropout(x, 0.2, true);
  torch::manual_seed(11);
  at::set_num_threads(2);
  const torch::Tensor two = model::dropout(x, 0.2, true);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, two));
  EXPECT_FALSE(torch::equal(one, next));  // each call draws a new seed
}

TEST(ModelDropout, GradientIsTheMask) {
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({20, 30}, torch::requires_grad());
  const torch::Tensor y = model::dropout(x, 0.4, true);
  y.sum().backward();
  const torch::Tensor expected = (y != 0).to(torch::kFloat) / 0.6;
  EXPECT_TRUE(torch::allclose(x.grad(), expected));
}

}  // namespace
}  // namespace seqrec::model
