// Every body under every objective it trains: shapes, gradients, and that it can learn.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <torch/cuda.h>

#include "seqrec/model/gru4rec_body.h"
#include "seqrec/model/sequential_recommender.h"
#include "seqrec/train/device_staging.h"
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

// GPU variant, skipped without a CUDA device: the same model and batch on the GPU give
// the CPU's loss and gradients (fused attention, masks and negatives keyed on the device).
TEST_P(ModelBodyTest, OnTheGpuGivesTheCpusLossAndGradients) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  at::globalContext().setAllowTF32CuBLAS(false);
  at::globalContext().setAllowTF32CuDNN(false);  // GRU4Rec's cuDNN RNN
  Recommender on_cpu = build();
  Recommender on_gpu = build();
  const torch::Device gpu(torch::kCUDA, 0);
  on_gpu->to(gpu);
  const Batch batch = model_test_batch(fixed_sessions(6, 8, kItems), 8);
  const LossOutput expected = on_cpu->training_loss(batch, 1);
  const LossOutput actual = on_gpu->training_loss(train::DeviceStaging(gpu).stage(batch), 1);
  EXPECT_EQ(actual.labels, expected.labels);
  EXPECT_NEAR(actual.loss_sum.item<double>(), expected.loss_sum.item<double>(),
              1e-4 * std::abs(expected.loss_sum.item<double>()));
  expected.loss_sum.backward();
  actual.loss_sum.backward();
  const auto cpu_parameters = on_cpu->named_parameters();
  for (const auto& parameter : on_gpu->named_parameters()) {
    const torch::Tensor want = cpu_parameters[parameter.key()].grad();
    const torch::Tensor got = parameter.value().grad().cpu();
    EXPECT_TRUE(torch::allclose(got, want, /*rtol=*/1e-3, /*atol=*/1e-5 * want.abs().max().item<double>()))
        << parameter.key() << ": largest difference " << (got - want).abs().max().item<double>();
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
  EXPECT_LT(last, GetParam().overfit_below) << "first step's loss " << first << ", last " << last;
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

// Packing must keep padding out of the recurrence on either side: left padding would
// otherwise run the state over empty slots before the first event.
TEST(ModelGru4recBody, LeftAndRightPaddingAgreeAtRealEvents) {
  torch::manual_seed(13);
  Gru4recOptions options;
  options.d_model = 16;
  options.layers = 2;
  options.dropout = 0.0;
  Gru4recBody body(options);
  const std::vector<int64_t> lengths{6, 3, 1, 0};
  const int64_t slots = 6;
  const torch::Tensor events = torch::randn({4, slots, 16});
  torch::Tensor right = torch::zeros_like(events), left = torch::zeros_like(events);
  torch::Tensor right_mask = torch::zeros({4, slots}, torch::kBool), left_mask = torch::zeros_like(right_mask);
  for (int64_t s = 0; s < 4; ++s) {
    const int64_t n = lengths[s];
    right[s].slice(0, 0, n).copy_(events[s].slice(0, 0, n));
    right_mask[s].slice(0, 0, n).fill_(true);
    left[s].slice(0, slots - n).copy_(events[s].slice(0, 0, n));
    left_mask[s].slice(0, slots - n).fill_(true);
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor from_right = body->forward(right, right_mask);
  const torch::Tensor from_left = body->forward(left, left_mask);
  for (int64_t s = 0; s < 4; ++s) {
    const int64_t n = lengths[s];
    EXPECT_TRUE(torch::allclose(from_right[s].slice(0, 0, n), from_left[s].slice(0, slots - n), 1e-5, 1e-6)) << s;
    EXPECT_EQ(from_right[s].slice(0, n).abs().sum().item<double>(), 0) << s;
    EXPECT_EQ(from_left[s].slice(0, 0, slots - n).abs().sum().item<double>(), 0) << s;
  }
  // The state at an event is the one a session ending there has.
  const torch::Tensor prefix = body->forward(right.slice(0, 0, 1).slice(1, 0, 3), right_mask.slice(0, 0, 1).slice(1, 0, 3));
  EXPECT_TRUE(torch::allclose(prefix[0], from_right[0].slice(0, 0, 3), 1e-5, 1e-6));
}

// A rank's share of a step may be empty; it still joins backward.
TEST(ModelGru4recBody, EmptyBatch) {
  Gru4recOptions options;
  options.d_model = 8;
  Gru4recBody body(options);
  const torch::Tensor out = body->forward(torch::zeros({0, 5, 8}), torch::zeros({0, 5}, torch::kBool));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 5, 8}));
  out.sum().backward();
  for (const auto& parameter : body->named_parameters()) {
    EXPECT_TRUE(parameter.value().grad().defined()) << parameter.key();
  }
}

INSTANTIATE_TEST_SUITE_P(Model, ModelBodyTest,
                         ::testing::Values(Config{"sasrec", "clm", "ce", "pre", 0.05},
                                           Config{"sasrec", "clm", "bce", "pre", 0.5},
                                           Config{"sasrec", "clm", "sampled", "pre", 0.8},
                                           Config{"transformer", "clm", "ce", "pre", 0.05},
                                           Config{"transformer", "clm", "ce", "post", 0.05},
                                           Config{"transformer", "mlm", "ce", "pre", 1.3},
                                           Config{"transformer", "mlm", "sampled", "post", 2.0},
                                           Config{"gru4rec", "clm", "ce", "pre", 0.1},
                                           Config{"gru4rec", "clm", "bce", "pre", 0.5},
                                           Config{"gru4rec", "clm", "sampled", "pre", 0.6},
                                           Config{"gru4rec", "clm", "bpr-max", "pre", 0.1},
                                           // TOP1-max is at least 0.5: sigmoid(r_j^2) >= 1/2.
                                           Config{"gru4rec", "clm", "top1-max", "pre", 0.6},
                                           Config{"hstu", "clm", "ce", "pre", 0.05},
                                           Config{"hstu", "clm", "sampled", "pre", 0.05},
                                           // BPR-max keeps its regularisation of the negatives' scores.
                                           Config{"hstu", "clm", "bpr-max", "pre", 0.6},
                                           Config{"xlnet", "plm", "ce", "pre", 1.3},
                                           Config{"xlnet", "plm", "sampled", "post", 2.0},
                                           // From 37: the discriminator's share stays, as the generator's
                                           // draws at masked slots stay uncertain (~15% replaced).
                                           Config{"electra", "rtd", "ce", "pre", 22.0}));

}  // namespace
}  // namespace seqrec::model
