// Session-level heads: the summary each choice reads, losses against a direct
// computation, a target feature that never reaches the inputs, a small over-fit, and
// the options that name tasks.
#include <gtest/gtest.h>

#include <cmath>

#include "seqrec/core/error.h"
#include "seqrec/model/model_options_json.h"
#include "seqrec/model/sequential_recommender.h"
#include "seqrec/model/session_summary.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::model_test_batch;
using test::small_model_options;

constexpr int64_t kItems = 40;

// model_test_schema plus "member", a context feature of two real values (ids 2 and 3).
Schema member_schema() {
  std::vector<FeatureSpec> features = test::model_test_schema(kItems).features();
  FeatureSpec member;
  member.name = "member";
  member.scope = FeatureScope::Context;
  member.cardinality = 4;
  features.push_back(member);
  return Schema(features);
}

Batch member_batch(const std::vector<std::vector<int64_t>>& sessions, const std::vector<int64_t>& members) {
  Batch batch = model_test_batch(sessions, 8);
  batch.features["member"] = torch::tensor(members, torch::kLong);
  return batch;
}

Recommender build(const std::vector<std::string>& tasks, const std::string& summary,
                  const std::vector<double>& weights = {}) {
  torch::manual_seed(11);
  ModelOptions options = small_model_options("sasrec", "clm", "ce");
  options.tasks = tasks;
  options.task_weights = weights;
  options.summary = summary;
  Recommender model = build_recommender(options, member_schema());
  model->eval();
  return model;
}

TEST(SessionSummaryTest, HandCheckedOnBothPaddingSides) {
  const torch::Tensor output = torch::arange(24, torch::kFloat32).view({3, 4, 2});
  // Row 0: events at slots 0-2 (right padding); row 1: slots 1-2; row 2: none.
  const torch::Tensor real = torch::tensor({1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0}, torch::kBool).view({3, 4});
  const auto expect = [&](SessionSummary how, std::vector<float> values) {
    EXPECT_TRUE(torch::allclose(summarise_session(output, real, how), torch::tensor(values).view({3, 2})))
        << summarise_session(output, real, how);
  };
  expect(SessionSummary::Last, {4, 5, 12, 13, 0, 0});
  expect(SessionSummary::First, {0, 1, 10, 11, 0, 0});
  expect(SessionSummary::Mean, {2, 3, 11, 12, 0, 0});
  EXPECT_THROW(parse_session_summary("max"), UserError);
}

TEST(SessionHeadsTest, FirstReadsTheFirstEventOnlyUnderACausalBody) {
  const Batch before = member_batch({{5, 6, 7}, {8, 9}}, {2, 3});
  const Batch after = member_batch({{5, 10, 11}, {8, 12}}, {2, 3});
  const auto prediction = [](Recommender& model, const Batch& batch) {
    return model->session_predictions(batch).at("member");
  };
  Recommender first = build({"next-item", "classify:member"}, "first");
  EXPECT_TRUE(torch::equal(prediction(first, before), prediction(first, after)));
  for (const char* summary : {"last", "mean"}) {
    Recommender model = build({"next-item", "classify:member"}, summary);
    EXPECT_GT((prediction(model, before) - prediction(model, after)).abs().max().item<double>(), 1e-6) << summary;
  }
  // last: the output that scores the next item, which sees the whole session.
  Recommender last = build({"next-item", "classify:member"}, "last");
  const Batch shorter = member_batch({{5, 6}, {8, 9}}, {2, 3});
  EXPECT_FALSE(torch::allclose(prediction(last, before), prediction(last, shorter)));
}

TEST(SessionHeadsTest, TargetFeaturesNeverReachTheInputs) {
  Recommender model = build({"next-item", "classify:member", "regress:income"}, "mean");
  const Batch batch = member_batch({{5, 6, 7}, {8, 9}, {3}}, {2, 3, 2});
  Batch changed = batch;
  changed.features["member"] = torch::tensor({3, 2, 1}, torch::kLong);
  changed.features["income"] = torch::tensor({-500.0f, 1e6f, 7.0f});
  EXPECT_TRUE(torch::equal(model->query_states(batch), model->query_states(changed)));
  const auto a = model->session_predictions(batch);
  const auto b = model->session_predictions(changed);
  EXPECT_TRUE(torch::equal(a.at("member"), b.at("member")));
  EXPECT_TRUE(torch::equal(a.at("income"), b.at("income")));
  EXPECT_TRUE(torch::equal(model->training_loss(batch, 1).loss_sum, model->training_loss(changed, 1).loss_sum));
  // The control: age is an input, and changing it changes the states.
  changed.features["age"] = torch::tensor({5, 4, 3}, torch::kLong);
  EXPECT_FALSE(torch::equal(model->query_states(batch), model->query_states(changed)));
}

TEST(SessionHeadsTest, LossesMatchADirectComputation) {
  Recommender model = build({"next-item", "classify:member", "regress:income", "classify:age"}, "last",
                            {1, 0.5, 2, 1});
  // Session 2's member is unknown: it counts in no member loss.
  const Batch batch = member_batch({{5, 6, 7}, {8, 9}, {3, 4}, {10, 11, 12, 13}}, {2, 3, 1, 3});
  const LossOutput out = model->training_loss(batch, 1);
  const auto predicted = model->session_predictions(batch);  // CLM, no dropout: the training outputs
  ASSERT_EQ(out.tasks.size(), 3u);

  EXPECT_EQ(out.tasks[0].name, "member");
  EXPECT_EQ(out.tasks[0].count, 3);
  EXPECT_DOUBLE_EQ(out.tasks[0].weight, 0.5);
  const torch::Tensor logits = predicted.at("member").to(torch::kFloat64);
  double member = 0;
  for (int64_t s : {0, 1, 3}) {
    const double z = logits[s].item<double>(), label = s == 0 ? 0 : 1;
    member += -(label * std::log(1 / (1 + std::exp(-z))) + (1 - label) * std::log(1 - 1 / (1 + std::exp(-z))));
  }
  EXPECT_NEAR(out.tasks[0].loss_sum.item<double>(), member, 1e-5 * member);

  // income = 10 s, standardised with the schema's mean 50 and stddev 30.
  EXPECT_EQ(out.tasks[1].count, 4);
  double income = 0;
  for (int64_t s = 0; s < 4; ++s) {
    income += std::pow((predicted.at("income")[s].item<double>() - 10.0 * s) / 30, 2);
  }
  EXPECT_NEAR(out.tasks[1].loss_sum.item<double>(), income, 1e-5 * income);

  // age 2 + s % 4: four real values, softmax over four logits.
  const torch::Tensor age_logits = predicted.at("age").to(torch::kFloat64);
  ASSERT_EQ(age_logits.size(1), 4);
  double age = 0;
  for (int64_t s = 0; s < 4; ++s) age -= torch::log_softmax(age_logits[s], 0)[s % 4].item<double>();
  EXPECT_NEAR(out.tasks[2].loss_sum.item<double>(), age, 1e-5 * age);
}

TEST(SessionHeadsTest, ZeroWeightLeavesTheItemLossOut) {
  Recommender model = build({"next-item", "classify:member"}, "last", {0, 1});
  const LossOutput out = model->training_loss(member_batch({{5, 6, 7}}, {2}), 1);
  EXPECT_EQ(out.labels, 0);
  EXPECT_EQ(out.weight, 0);
  EXPECT_EQ(out.loss_sum.item<double>(), 0);
}

TEST(SessionHeadsTest, OverfitsTwentySessions) {
  Recommender model = build({"next-item", "classify:member"}, "mean", {0.1, 1});
  model->train();
  std::vector<int64_t> members;
  for (int64_t s = 0; s < 20; ++s) members.push_back(2 + (s * 7 % 5) % 2);
  const Batch batch = member_batch(test::fixed_sessions(20, 6, kItems), members);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(3e-3));
  double loss = 0;
  for (int step = 0; step < 200; ++step) {
    optimizer.zero_grad();
    const LossOutput out = model->training_loss(batch, step);
    const torch::Tensor member = out.tasks[0].loss_sum / out.tasks[0].count;
    (member + 0.1 * out.loss_sum / out.labels).backward();
    optimizer.step();
    loss = member.item<double>();
  }
  EXPECT_LT(loss, 0.05);
  model->eval();
  const torch::Tensor predicted = (model->session_predictions(batch).at("member") > 0).to(torch::kLong) + 2;
  EXPECT_TRUE(torch::equal(predicted, torch::tensor(members)));
}

TEST(SessionTasksTest, UnsuitableTasksAreRefusedNamingTheOption) {
  const Schema schema = member_schema();
  const auto message = [&](const std::vector<std::string>& tasks, const std::vector<double>& weights = {}) {
    try {
      plan_tasks(tasks, weights, schema);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({"next-item", "classify:price"}).find("context"), std::string::npos);  // per event
  EXPECT_NE(message({"next-item", "classify:nowhere"}).find("member"), std::string::npos);  // lists them
  EXPECT_NE(message({"next-item", "classify:income"}).find("categorical"), std::string::npos);
  EXPECT_NE(message({"next-item", "regress:member"}).find("continuous"), std::string::npos);
  EXPECT_NE(message({"next-item", "predict:member"}).find("model.tasks"), std::string::npos);
  EXPECT_NE(message({"classify:member"}).find("next-item"), std::string::npos);
  EXPECT_NE(message({"next-item", "classify:member", "classify:member"}).find("two tasks"), std::string::npos);
  EXPECT_NE(message({"next-item", "classify:member"}, {1}).find("model.task_weights"), std::string::npos);
  EXPECT_NE(message({"next-item", "classify:member"}, {1, -1}).find("model.task_weights"), std::string::npos);
  EXPECT_NE(message({"next-item", "classify:member"}, {0, 0}).find("above 0"), std::string::npos);
  EXPECT_EQ(message({"next-item", "classify:member", "regress:income"}, {1, 2, 3}), "no error");

  ModelOptions options = small_model_options("sasrec", "clm", "ce");
  options.tasks = {"next-item", "classify:member"};
  options.feature_dims = {{"member", 4}};
  EXPECT_THROW(build_recommender(options, schema), UserError);
}

TEST(SessionTasksTest, OptionsRoundTripThroughJson) {
  ModelOptions options;
  options.tasks = {"next-item", "classify:member", "regress:income"};
  options.task_weights = {1, 0.25, 3};
  options.summary = "mean";
  const ModelOptions back = model_options_from_json(model_options_to_json(options), "test");
  EXPECT_EQ(back.tasks, options.tasks);
  EXPECT_EQ(back.task_weights, options.task_weights);
  EXPECT_EQ(back.summary, "mean");
  // Files written before session tasks read as next-item models.
  const ModelOptions old = model_options_from_json("{\"body\": \"sasrec\"}", "test");
  EXPECT_EQ(old.tasks, std::vector<std::string>{"next-item"});
  EXPECT_TRUE(old.task_weights.empty());
}

}  // namespace
}  // namespace seqrec::model
