#include <gtest/gtest.h>

#include "seqrec/model/input_block.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::model_test_batch;
using test::model_test_schema;

InputBlockOptions small_input(bool mask_embedding) {
  InputBlockOptions o;
  o.d_model = 16;
  o.max_seq_len = 6;
  o.dropout = 0.0;
  o.mask_embedding = mask_embedding;
  return o;
}

TEST(ModelInputBlock, PaddingSlotsAreZero) {
  InputBlock input(model_test_schema(30), small_input(false), make_local_table);
  const Batch batch = model_test_batch({{5, 6, 7}, {8}}, 6);
  const torch::Tensor x = input(batch.features, batch.mask);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{2, 6, 16}));
  EXPECT_TRUE(x[0].slice(0, 3).abs().sum().item<float>() == 0);
  EXPECT_TRUE(x[1].slice(0, 1).abs().sum().item<float>() == 0);
  EXPECT_GT(x[1][0].abs().sum().item<float>(), 0);
}

TEST(ModelInputBlock, HiddenEventsCarryTheMaskEmbedding) {
  InputBlock input(model_test_schema(30), small_input(true), make_local_table);
  input->eval();
  const Batch batch = model_test_batch({{5, 6, 7}}, 6);
  const torch::Tensor hidden = torch::tensor({0, 1, 0, 0, 0, 0}).to(torch::kBool).unsqueeze(0);
  const torch::Tensor x = input(batch.features, batch.mask, hidden);

  // The hidden slot is the [MASK] vector at its position, whatever the event was.
  auto parameters = input->named_parameters();
  const torch::Tensor expected =
      torch::layer_norm(parameters["mask_embedding"] + parameters["positions.weight"][1], {16},
                        parameters["norm.weight"], parameters["norm.bias"]);
  EXPECT_TRUE(torch::allclose(x[0][1], expected, 1e-5, 1e-6));
  const Batch other = model_test_batch({{5, 19, 7}}, 6);
  EXPECT_TRUE(torch::allclose(input(other.features, other.mask, hidden)[0][1], x[0][1]));
  EXPECT_FALSE(torch::allclose(input(other.features, other.mask)[0][1], input(batch.features, batch.mask)[0][1]));
}

TEST(ModelInputBlock, MultiValuedFeaturesAverageTheirNonPaddingValues) {
  FeatureSpec genres;
  genres.name = "genres";
  genres.cardinality = 8;
  genres.max_values = 3;
  FeatureEncoder encoder(genres, 4, make_local_table, 1);
  const torch::Tensor table = encoder->named_parameters()["embedding.weight"];
  const torch::Tensor pooled = encoder(torch::tensor({3, 0, 5}, torch::kInt64).reshape({1, 3}));
  EXPECT_TRUE(torch::allclose(pooled[0], (table[3] + table[5]) / 2));
  EXPECT_TRUE(torch::equal(encoder(torch::zeros({1, 3}, torch::kInt64)), torch::zeros({1, 4})));
}

TEST(ModelInputBlock, ContinuousFeaturesAreStandardisedWithTheSchemaStats) {
  FeatureSpec price;
  price.name = "price";
  price.kind = FeatureKind::Continuous;
  price.dtype = DType::Float32;
  price.stats = {10, 2, 0, 20};
  FeatureEncoder encoder(price, 4, make_local_table, 1);
  auto parameters = encoder->named_parameters();
  const torch::Tensor expected = parameters["projection.weight"].squeeze(1) * 2.0 + parameters["projection.bias"];
  EXPECT_TRUE(torch::allclose(encoder(torch::tensor({14.0f}))[0], expected));
}

TEST(ModelInputBlock, EmbeddingSizesGrowWithTheFourthRootOfTheCardinality) {
  EXPECT_EQ(default_embedding_dim(16, 64), 12);
  EXPECT_EQ(default_embedding_dim(10000, 64), 60);
  EXPECT_EQ(default_embedding_dim(100000000, 64), 64);
}

TEST(ModelInputBlock, TimeIsNotASideFeature) {
  std::vector<std::string> names;
  for (const FeatureSpec& f : side_features(model_test_schema(30))) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"genres", "price", "age", "income"}));
}

}  // namespace
}  // namespace seqrec::model
