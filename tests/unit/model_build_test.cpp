#include <gtest/gtest.h>

#include "seqrec/core/error.h"
#include "seqrec/model/recommender.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::build_error;
using test::model_test_schema;
using test::small_model_options;

TEST(ModelBuild, SasrecTrainsOnlyCausally) {
  const std::string message = build_error(small_model_options("sasrec", "mlm", "ce"));
  EXPECT_NE(message.find("model.masking"), std::string::npos) << message;
  EXPECT_NE(message.find("valid for sasrec: clm"), std::string::npos) << message;
}

TEST(ModelBuild, HstuTrainsOnlyCausally) {
  const std::string message = build_error(small_model_options("hstu", "mlm", "ce"));
  EXPECT_NE(message.find("valid for hstu: clm"), std::string::npos) << message;
  EXPECT_EQ(build_error(small_model_options("hstu", "clm", "bpr-max")), "");
}

TEST(ModelBuild, SsePtNeedsTheUsersAsAFeature) {
  EXPECT_NE(build_error(small_model_options("sse-pt", "clm", "ce")).find("--user-id-feature"), std::string::npos);
  ModelOptions user_swaps = small_model_options("sasrec", "clm", "ce");
  user_swaps.user_swap_probability = 0.1;
  EXPECT_NE(build_error(user_swaps).find("model.user_swap_probability"), std::string::npos);
}

TEST(ModelBuild, PermutationNeedsXlnetAndXlnetNeedsIt) {
  EXPECT_NE(build_error(small_model_options("transformer", "plm", "ce")).find("valid for transformer: clm, mlm"),
            std::string::npos);
  EXPECT_NE(build_error(small_model_options("sasrec", "plm", "ce")).find("valid for sasrec: clm"), std::string::npos);
  for (const std::string masking : {"clm", "mlm"}) {
    const std::string message = build_error(small_model_options("xlnet", masking, "ce"));
    EXPECT_NE(message.find("model.masking"), std::string::npos) << message;
    EXPECT_NE(message.find("valid for xlnet: plm"), std::string::npos) << message;
  }
  EXPECT_EQ(build_error(small_model_options("xlnet", "plm", "bpr-max")), "");

  ModelOptions options = small_model_options("xlnet", "plm", "ce");
  options.plm_probability = 0;
  EXPECT_NE(build_error(options).find("model.plm_probability must lie in (0, 1]"), std::string::npos);
  options = small_model_options("xlnet", "plm", "ce");
  options.max_span_length = 0;
  EXPECT_NE(build_error(options).find("model.max_span_length must be at least 1"), std::string::npos);
}

TEST(ModelBuild, UnknownChoicesListTheValidOnes) {
  EXPECT_NE(build_error(small_model_options("gru", "clm", "ce"))
                .find("model.body: unknown value 'gru' (valid: sasrec, sse-pt, transformer, gru4rec, hstu, xlnet, electra)"),
            std::string::npos);
  EXPECT_NE(build_error(small_model_options("transformer", "nsp", "ce")).find("(valid: clm, mlm, plm, rtd)"),
            std::string::npos);
  EXPECT_NE(build_error(small_model_options("sasrec", "clm", "nce")).find("(valid: ce, sampled, bce, bpr-max, top1-max)"),
            std::string::npos);
}

TEST(ModelBuild, RejectsInconsistentSizes) {
  ModelOptions options = small_model_options("transformer", "clm", "ce");
  options.heads = 3;
  EXPECT_NE(build_error(options).find("multiple of model.heads"), std::string::npos);

  options = small_model_options("sasrec", "clm", "bce");
  options.label_smoothing = 0.1;
  EXPECT_NE(build_error(options).find("loss 'ce' only"), std::string::npos);

  options = small_model_options("gru4rec", "clm", "top1-max");
  options.negatives = 0;
  EXPECT_NE(build_error(options).find("model.negatives must be at least 1"), std::string::npos);

  options = small_model_options("gru4rec", "clm", "bpr-max");
  options.bpr_reg = -1;
  EXPECT_NE(build_error(options).find("model.bpr_reg"), std::string::npos);

  options = small_model_options("sasrec", "clm", "ce");
  options.feature_dims = {{"time", 4}};
  EXPECT_NE(build_error(options).find("side features: genres, price, age, income"), std::string::npos);
}

TEST(ModelBuild, ItemsOnlyModelsHoldNoSideFeatureParameters) {
  ModelOptions options = small_model_options("sasrec", "clm", "ce");
  options.use_side_features = false;
  for (const auto& parameter : build_recommender(options, model_test_schema(30))->named_parameters()) {
    EXPECT_EQ(parameter.key().find("side_feature"), std::string::npos) << parameter.key();
    EXPECT_EQ(parameter.key().find("combine"), std::string::npos) << parameter.key();
  }
}

TEST(ModelBuild, FeatureDimsSetTheConcatenatedSizes) {
  ModelOptions options = small_model_options("sasrec", "clm", "ce");
  options.feature_dims = {{"genres", 3}};
  auto parameters = build_recommender(options, model_test_schema(30))->named_parameters();
  EXPECT_EQ(parameters["input.side_feature_0.embedding.weight"].sizes(), (std::vector<int64_t>{7, 3}));
  // item 32 + genres 3 + price 8 + age round(6 * 6^0.25) = 9 + income 8
  EXPECT_EQ(parameters["input.combine.weight"].sizes(), (std::vector<int64_t>{32, 60}));
}

}  // namespace
}  // namespace seqrec::model
