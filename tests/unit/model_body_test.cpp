// Every body under every objective it trains: shapes, gradients, and that it can learn.
#include <gtest/gtest.h>

#include <limits>

#include "seqrec/model/sequential_recommender.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::fixed_sessions;
using test::model_test_batch;
using test::model_test_schema;
using test::small_model_options;

constexpr int64_t kItems = 40;

struct Config {
  std::string body, masking, loss, norm;
  double overfit_below;  // loss after training on the fixed sessions: about twice what it reaches
};

std::ostream& operator<<(std::ostream& out, const Config& c) {
  return out << c.body << "/" << c.masking << "/" << c.loss << "/" << c.norm;
}

class ModelBodyTest : public ::testing::TestWithParam<Config> {
 protected:
  Recommender build() const {
    torch::manual_seed(11);
    ModelOptions options = small_model_options(GetParam().body, GetParam().masking, GetParam().loss);
    options.norm = GetParam().norm;
    return build_recommender(options, model_test_schema(kItems));
  }
};

TEST_P(ModelBodyTest, OutputShapes) {
  Recommender model = build();
  model->eval();
  const Batch batch = model_test_batch({{5, 6, 7}, {2, 3, 4, 5, 6, 7, 8, 9}, {4}}, 8);
  auto& sequential = dynamic_cast<SequentialRecommenderImpl&>(*model);
  EXPECT_EQ(sequential.encode(sequential.masking().inference(batch)).sizes(), (std::vector<int64_t>{3, 8, 32}));

  const torch::Tensor scores = next_item_scores(*model, batch);
  ASSERT_EQ(scores.sizes(), (std::vector<int64_t>{3, kItems}));
  EXPECT_TRUE((scores.slice(1, 0, kFirstRealId) == -std::numeric_limits<float>::infinity()).all().item<bool>());
  EXPECT_TRUE(scores.slice(1, kFirstRealId).isfinite().all().item<bool>());
}

TEST_P(ModelBodyTest, GradientReachesEveryParameter) {
  Recommender model = build();
  // Full sessions, so that every position embedding is used.
  const LossOutput out = model->training_loss(model_test_batch(fixed_sessions(6, 8, kItems), 8), 1);
  EXPECT_GT(out.labels, 0);
  out.loss_sum.backward();
  for (const auto& parameter : model->named_parameters()) {
    ASSERT_TRUE(parameter.value().grad().defined()) << parameter.key();
    EXPECT_GT(parameter.value().grad().abs().sum().item<double>(), 0) << parameter.key();
  }
}

TEST_P(ModelBodyTest, OverfitsTwentySessions) {
  Recommender model = build();
  const Batch batch = model_test_batch(fixed_sessions(20, 8, kItems), 8);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-2));
  // Negatives and masks are drawn anew each step, so the loss is judged over the last 20.
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    adam.zero_grad();
    const LossOutput out = model->training_loss(batch, step);
    const torch::Tensor mean = out.loss_sum / out.labels;
    mean.backward();
    adam.step();
    if (step == 0) first = mean.item<double>();
    if (step >= 280) last += mean.item<double>() / 20;
  }
  EXPECT_LT(last, GetParam().overfit_below) << "first step's loss " << first;
}

TEST(ModelLossOutput, CountsTheLabelledPositions) {
  torch::manual_seed(12);
  Recommender model = build_recommender(small_model_options("sasrec", "clm", "ce"), model_test_schema(kItems));
  EXPECT_EQ(model->training_loss(model_test_batch({{5, 6, 7}, {8}, {2, 3}}, 8), 1).labels, 2 + 0 + 1);

  // Nothing to predict, yet backward runs, as every rank of a step must.
  const LossOutput none = model->training_loss(model_test_batch({{5}, {8}}, 8), 1);
  EXPECT_EQ(none.labels, 0);
  EXPECT_EQ(none.loss_sum.item<double>(), 0);
  none.loss_sum.backward();
  EXPECT_TRUE(model->named_parameters()["input.items.weight"].grad().defined());
}

INSTANTIATE_TEST_SUITE_P(Model, ModelBodyTest,
                         ::testing::Values(Config{"sasrec", "clm", "ce", "pre", 0.05},
                                           Config{"sasrec", "clm", "bce", "pre", 0.5},
                                           Config{"sasrec", "clm", "sampled", "pre", 0.8},
                                           Config{"transformer", "clm", "ce", "pre", 0.05},
                                           Config{"transformer", "clm", "ce", "post", 0.05},
                                           Config{"transformer", "mlm", "ce", "pre", 1.3},
                                           Config{"transformer", "mlm", "sampled", "post", 2.0}));

}  // namespace
}  // namespace seqrec::model
