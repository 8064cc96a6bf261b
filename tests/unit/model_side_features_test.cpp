#include <gtest/gtest.h>

#include <functional>

#include "seqrec/model/recommender.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::model_test_batch;
using test::model_test_schema;
using test::small_model_options;

// The scores of one session before and after `change` edits its batch.
std::pair<torch::Tensor, torch::Tensor> scores_around(const ModelOptions& options,
                                                      const std::function<void(Batch&)>& change) {
  torch::manual_seed(5);
  Recommender model = build_recommender(options, model_test_schema(30));
  model->eval();
  torch::NoGradGuard no_grad;
  Batch batch = model_test_batch({{5, 6, 7}}, 8);
  const torch::Tensor before = next_item_scores(*model, batch);
  for (auto& [name, tensor] : batch.features) tensor = tensor.clone();
  change(batch);
  return {before, next_item_scores(*model, batch)};
}

const std::map<std::string, std::function<void(Batch&)>>& side_changes() {
  static const std::map<std::string, std::function<void(Batch&)>> changes = {
      {"genres", [](Batch& b) { b.features.at("genres")[0][2][0] = 6; }},
      {"price", [](Batch& b) { b.features.at("price")[0][2] = 25.0f; }},
      {"age", [](Batch& b) { b.features.at("age")[0] = 5; }},
      {"income", [](Batch& b) { b.features.at("income")[0] = 90.0f; }},
  };
  return changes;
}

TEST(ModelSideFeatures, EachSideFeatureChangesTheScores) {
  for (const std::string aggregation : {"concat", "element-wise-sum", "element-wise-sum-item-multi"}) {
    for (const std::string body : {"sasrec", "transformer"}) {
      ModelOptions options = small_model_options(body, "clm", "ce");
      options.aggregation = aggregation;
      for (const auto& [name, change] : side_changes()) {
        const auto [before, after] = scores_around(options, change);
        EXPECT_FALSE(torch::allclose(before, after)) << name << " with " << aggregation << ", " << body;
      }
    }
  }
}

TEST(ModelSideFeatures, WithoutSideFeaturesOnlyItemsMatter) {
  ModelOptions options = small_model_options("transformer", "mlm", "ce");
  options.use_side_features = false;
  for (const auto& [name, change] : side_changes()) {
    const auto [before, after] = scores_around(options, change);
    EXPECT_TRUE(torch::equal(before, after)) << name;
  }
  const auto [before, after] = scores_around(options, [](Batch& b) { b.features.at("item_id")[0][1] = 9; });
  EXPECT_FALSE(torch::allclose(before, after));
}

TEST(ModelSideFeatures, EventTimesAreIgnored) {
  const auto [before, after] = scores_around(small_model_options("sasrec", "clm", "ce"),
                                             [](Batch& b) { b.features.at("time")[0][2] = 1e9; });
  EXPECT_TRUE(torch::equal(before, after));
}

}  // namespace
}  // namespace seqrec::model
