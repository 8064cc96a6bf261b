// ModelOptions survive JSON text unchanged; old files default, newer ones are refused.
#include <gtest/gtest.h>

#include "seqrec/core/error.h"
#include "seqrec/model/model_options_json.h"

namespace seqrec::model {
namespace {

TEST(ModelOptionsJson, EveryFieldRoundTrips) {
  ModelOptions o;
  o.body = "transformer";
  o.masking = "mlm";
  o.loss = "sampled";
  o.d_model = 48;
  o.layers = 3;
  o.heads = 4;
  o.d_ff = 96;
  o.dropout = 0.125;
  o.max_seq_len = 17;
  o.negatives = 33;
  o.negative_sharing = "step";
  o.mlm_probability = 0.3;
  o.plm_probability = 0.25;
  o.max_span_length = 3;
  o.label_smoothing = 0.05;
  o.use_side_features = false;
  o.aggregation = "element-wise-sum";
  o.feature_dims = {{"genres", 16}, {"age", 4}};
  o.norm = "post";
  o.activation = "relu";
  o.seed = 18446744073709551557ull;  // above int64's range
  const std::string text = model_options_to_json(o);
  const ModelOptions back = model_options_from_json(text, "test");
  EXPECT_EQ(model_options_to_json(back), text);
  EXPECT_EQ(back.body, o.body);
  EXPECT_EQ(back.feature_dims, o.feature_dims);
  EXPECT_EQ(back.seed, o.seed);
  EXPECT_EQ(back.use_side_features, o.use_side_features);
  EXPECT_EQ(back.dropout, o.dropout);
  EXPECT_EQ(back.max_span_length, o.max_span_length);
  // Doubles in full: the default 1/6 reads back as itself.
  EXPECT_EQ(model_options_from_json(model_options_to_json(ModelOptions()), "test").plm_probability, 1.0 / 6);
  // A change to any field shows in the text.
  EXPECT_NE(model_options_to_json(ModelOptions()), text);
}

TEST(ModelOptionsJson, MissingFieldsDefaultUnknownOnesAreRefused) {
  const ModelOptions o = model_options_from_json(R"({"d_model": 8})", "old.h5");
  EXPECT_EQ(o.d_model, 8);
  EXPECT_EQ(o.body, ModelOptions().body);
  try {
    model_options_from_json(R"({"d_model": 8, "future_knob": 1})", "new.h5");
    ADD_FAILURE() << "an unknown option was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("new.h5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("future_knob"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model_options_from_json(R"({"d_model": "wide"})", "typed.h5"), UserError);
  EXPECT_THROW(model_options_from_json("not json", "broken.h5"), UserError);
}

}  // namespace
}  // namespace seqrec::model
