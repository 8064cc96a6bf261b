// Replaced token detection (ELECTRA): the generator's loss is MLM's, the discriminator's
// labels are exactly the replacements, and the draws feed it without a gradient path.
#include <gtest/gtest.h>

#include <string>

#include "seqrec/core/error.h"
#include "seqrec/model/replaced_token_recommender.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::fixed_sessions;
using test::model_test_batch;
using test::model_test_schema;
using test::small_model_options;

constexpr int64_t kItems = 40;

ModelOptions electra_options(const std::string& share, double weight) {
  ModelOptions o = small_model_options("electra", "rtd", "ce");
  o.rtd_share = share;
  o.rtd_weight = weight;
  o.mlm_probability = 0.3;
  return o;
}

ReplacedTokenRecommenderImpl& replaced_token(Recommender& model) {
  return dynamic_cast<ReplacedTokenRecommenderImpl&>(*model);
}

Batch test_batch() {
  std::vector<std::vector<int64_t>> sessions = fixed_sessions(6, 8, kItems);
  sessions.push_back({5, 6});  // padding to leave alone
  return model_test_batch(sessions, 8);
}

std::string build_error(const ModelOptions& options) { return test::build_error(options, kItems); }

class ModelReplacedTokenTest : public testing::TestWithParam<std::string> {};

// lambda = 0 trains the generator alone: loss, label count and every gradient of an MLM
// recommender holding the same weights, bit for bit.
TEST_P(ModelReplacedTokenTest, ZeroWeightIsExactlyTheGeneratorsMlmLoss) {
  torch::manual_seed(21);
  Recommender electra = build_recommender(electra_options(GetParam(), 0.0), model_test_schema(kItems));
  ModelOptions mlm_options = small_model_options("transformer", "mlm", "ce");
  mlm_options.mlm_probability = 0.3;
  Recommender mlm = build_recommender(mlm_options, model_test_schema(kItems));
  auto electra_parameters = electra->named_parameters();
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : mlm->named_parameters()) {
      ASSERT_TRUE(electra_parameters.contains(p.key())) << p.key();
      p.value().copy_(electra_parameters[p.key()]);
    }
  }
  const Batch batch = test_batch();
  const LossOutput expected = mlm->training_loss(batch, 5);
  const LossOutput actual = electra->training_loss(batch, 5);
  EXPECT_GT(expected.labels, 0);
  EXPECT_EQ(actual.labels, expected.labels);
  EXPECT_TRUE(torch::equal(actual.loss_sum, expected.loss_sum)) << actual.loss_sum << " vs " << expected.loss_sum;
  expected.loss_sum.backward();
  actual.loss_sum.backward();
  for (const auto& p : mlm->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::equal(electra_parameters[p.key()].grad(), p.value().grad())) << p.key();
  }
  // The discriminator is still part of the graph (a sharded table needs every rank's
  // lookups in it); its weight is what keeps it out.
  EXPECT_TRUE(electra_parameters["discriminator_head.weight"].grad().defined());
}

TEST_P(ModelReplacedTokenTest, DiscriminatorLabelsAreTheReplacementsAtHiddenSlots) {
  torch::manual_seed(22);
  Recommender model = build_recommender(electra_options(GetParam(), 50.0), model_test_schema(kItems));
  const Batch batch = test_batch();
  const auto step = replaced_token(model).training_step(batch, 9);
  const torch::Tensor& originals = batch.features.at("item_id");
  const torch::Tensor& hidden = step.masked.hidden;

  EXPECT_TRUE(torch::equal(hidden, MaskedItemMasking(model_test_schema(kItems), 0.3).training(batch, 9).hidden));
  EXPECT_TRUE(torch::equal(step.items.masked_select(hidden.logical_not()),
                           originals.masked_select(hidden.logical_not())));
  EXPECT_TRUE(torch::equal(step.replaced, (step.items != originals) & hidden));
  EXPECT_FALSE(step.items.requires_grad());
  const torch::Tensor draws = step.items.masked_select(hidden);
  EXPECT_GE(draws.min().item<int64_t>(), kFirstRealId);
  EXPECT_LT(draws.max().item<int64_t>(), kItems);
  // An untrained generator draws nearly uniformly over 38 items: most hidden slots change.
  EXPECT_GT(step.replaced.sum().item<int64_t>(), hidden.sum().item<int64_t>() / 2);

  // The draws are keyed by the step's seed, like the masks.
  EXPECT_TRUE(torch::equal(replaced_token(model).training_step(batch, 9).items, step.items));
  EXPECT_FALSE(torch::equal(replaced_token(model).training_step(batch, 10).items, step.items));
}

// A catalog of one real item: every draw is the original, and nothing counts as replaced.
TEST_P(ModelReplacedTokenTest, DrawingTheOriginalIsNotAReplacement) {
  torch::manual_seed(23);
  ModelOptions options = electra_options(GetParam(), 50.0);
  Recommender model = build_recommender(options, model_test_schema(kFirstRealId + 1));
  const Batch batch = model_test_batch({{2, 2, 2, 2}, {2, 2}}, 8);
  const auto step = replaced_token(model).training_step(batch, 3);
  EXPECT_GT(step.masked.hidden.sum().item<int64_t>(), 0);
  EXPECT_TRUE(torch::equal(step.items, batch.features.at("item_id")));
  EXPECT_FALSE(step.replaced.any().item<bool>());
}

// The draws are ids: the discriminator's loss reaches the generator's body only where the
// two share it (rtd_share = all), never through the draw itself.
TEST_P(ModelReplacedTokenTest, DiscriminatorLossDoesNotFlowThroughTheDraws) {
  torch::manual_seed(24);
  Recommender model = build_recommender(electra_options(GetParam(), 50.0), model_test_schema(kItems));
  const auto step = replaced_token(model).training_step(test_batch(), 4);
  step.discriminator_sum.backward();
  for (const auto& p : model->named_parameters()) {
    const bool generator_only = GetParam() == "embeddings" && p.key().rfind("body.", 0) == 0;
    if (generator_only) {
      EXPECT_FALSE(p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0) << p.key();
    } else if (p.key() != "input.mask_embedding") {  // the discriminator sees no [MASK]
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0) << p.key();
    }
  }
}

TEST_P(ModelReplacedTokenTest, LossWeighsTheDiscriminatorByLambdaTimesTheMaskingShare) {
  torch::manual_seed(25);
  Recommender model = build_recommender(electra_options(GetParam(), 50.0), model_test_schema(kItems));
  model->eval();  // the same dropout-free graph twice
  const Batch batch = test_batch();
  const auto step = replaced_token(model).training_step(batch, 6);
  const LossOutput out = model->training_loss(batch, 6);
  EXPECT_EQ(out.labels, step.generator.labels);
  EXPECT_NEAR(out.loss_sum.item<double>(),
              step.generator.loss_sum.item<double>() + 50.0 * 0.3 * step.discriminator_sum.item<double>(), 1e-3);
  EXPECT_GT(step.discriminator_sum.item<double>(), 0);
}

INSTANTIATE_TEST_SUITE_P(Model, ModelReplacedTokenTest, testing::Values("all", "embeddings"));

TEST(ModelReplacedToken, SeparateGeneratorHasItsOwnLayers) {
  ModelOptions options = electra_options("embeddings", 50.0);
  options.layers = 3;
  options.generator_layers = 1;
  Recommender model = build_recommender(options, model_test_schema(kItems));
  int64_t generator_blocks = 0, discriminator_blocks = 0;
  for (const auto& p : model->named_parameters()) {
    if (p.key().find(".attention_norm.weight") == std::string::npos) continue;
    (p.key().rfind("body.", 0) == 0 ? generator_blocks : discriminator_blocks) += 1;
  }
  EXPECT_EQ(generator_blocks, 1);
  EXPECT_EQ(discriminator_blocks, 3);
}

TEST(ModelReplacedToken, RtdIsTheElectraBodysObjectiveOnly) {
  std::string message = build_error(small_model_options("transformer", "rtd", "ce"));
  EXPECT_NE(message.find("valid for transformer: clm, mlm"), std::string::npos) << message;
  message = build_error(small_model_options("electra", "mlm", "ce"));
  EXPECT_NE(message.find("valid for electra: rtd"), std::string::npos) << message;
  message = build_error(small_model_options("sasrec", "rtd", "ce"));
  EXPECT_NE(message.find("valid for sasrec: clm"), std::string::npos) << message;

  ModelOptions options = electra_options("some", 50.0);
  EXPECT_NE(build_error(options).find("model.rtd_share: unknown value 'some' (valid: all, embeddings)"),
            std::string::npos);
  options = electra_options("all", -1.0);
  EXPECT_NE(build_error(options).find("model.rtd_weight"), std::string::npos);
  options = electra_options("embeddings", 50.0);
  options.generator_layers = -1;
  EXPECT_NE(build_error(options).find("model.generator_layers"), std::string::npos);
  options = electra_options("all", 50.0);
  options.mlm_probability = 0;
  EXPECT_NE(build_error(options).find("model.mlm_probability"), std::string::npos);
}

}  // namespace
}  // namespace seqrec::model
