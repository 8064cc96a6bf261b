#include <gtest/gtest.h>

#include "seqrec/model/input_block.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::model_test_batch;
using test::model_test_schema;

FeatureEncoderOptions encoder_options(int64_t dim, ContinuousEncoding continuous = ContinuousEncoding::Linear) {
  FeatureEncoderOptions o;
  o.dim = dim;
  o.continuous = continuous;
  o.seed = 1;
  return o;
}

FeatureSpec genres_feature() {
  FeatureSpec genres;
  genres.name = "genres";
  genres.cardinality = 8;
  genres.max_values = 3;
  return genres;
}

FeatureSpec price_feature() {
  FeatureSpec price;
  price.name = "price";
  price.kind = FeatureKind::Continuous;
  price.dtype = DType::Float32;
  price.stats = {10, 2, 0, 20};
  return price;
}

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
  FeatureEncoder encoder(genres_feature(), encoder_options(4), make_local_table);
  const torch::Tensor table = encoder->named_parameters()["embedding.weight"];
  const torch::Tensor pooled = encoder(torch::tensor({3, 0, 5}, torch::kInt64).reshape({1, 3}));
  EXPECT_TRUE(torch::allclose(pooled[0], (table[3] + table[5]) / 2));
  EXPECT_TRUE(torch::equal(encoder(torch::zeros({1, 3}, torch::kInt64)), torch::zeros({1, 4})));
}

TEST(ModelInputBlock, ContinuousFeaturesAreStandardisedWithTheSchemaStats) {
  FeatureEncoder encoder(price_feature(), encoder_options(4), make_local_table);
  auto parameters = encoder->named_parameters();
  const torch::Tensor expected = parameters["projection.weight"].squeeze(1) * 2.0 + parameters["projection.bias"];
  EXPECT_TRUE(torch::allclose(encoder(torch::tensor({14.0f}))[0], expected));
}

TEST(ModelInputBlock, SumPoolingAddsTheValuesEmbeddings) {
  FeatureEncoderOptions options = encoder_options(4);
  options.pooling = Pooling::Sum;
  FeatureEncoder encoder(genres_feature(), options, make_local_table);
  const torch::Tensor table = encoder->named_parameters()["embedding.weight"];
  const torch::Tensor pooled = encoder(torch::tensor({3, 0, 5}, torch::kInt64).reshape({1, 3}));
  EXPECT_TRUE(torch::allclose(pooled[0], table[3] + table[5]));
}

TEST(ModelInputBlock, ContinuousEncodings) {
  const torch::Tensor values = torch::tensor({14.0f, 6.0f});  // standardised: 2, -2
  const torch::Tensor standardised = torch::tensor({2.0f, -2.0f}).unsqueeze(1);

  FeatureEncoder scalar(price_feature(), encoder_options(4, ContinuousEncoding::Scalar), make_local_table);
  EXPECT_EQ(scalar->output_dim(), 1);
  EXPECT_TRUE(torch::allclose(scalar(values), standardised));
  EXPECT_TRUE(scalar->parameters().empty());

  FeatureEncoder mlp(price_feature(), encoder_options(4, ContinuousEncoding::Mlp), make_local_table);
  auto p = mlp->named_parameters();
  const torch::Tensor hidden = torch::relu(standardised.matmul(p["projection.weight"].t()) + p["projection.bias"]);
  EXPECT_TRUE(torch::allclose(mlp(values), hidden.matmul(p["hidden.weight"].t()) + p["hidden.bias"]));

  // Soft one-hot: a convex mix of the bins' embeddings, weighted by a softmax over bins.
  FeatureEncoderOptions soft_options = encoder_options(4, ContinuousEncoding::SoftOneHot);
  soft_options.soft_one_hot_bins = 5;
  FeatureEncoder soft(price_feature(), soft_options, make_local_table);
  auto q = soft->named_parameters();
  ASSERT_EQ(q["bins"].sizes(), (std::vector<int64_t>{5, 4}));
  const torch::Tensor weights = torch::softmax(standardised.matmul(q["projection.weight"].t()) + q["projection.bias"], -1);
  EXPECT_TRUE(torch::allclose(soft(values), weights.matmul(q["bins"])));
  EXPECT_EQ(soft(values).sizes(), (std::vector<int64_t>{2, 4}));
}

TEST(ModelInputBlock, PerFeatureLayerNormAndDropout) {
  FeatureEncoderOptions options = encoder_options(6);
  options.layer_norm = true;
  options.dropout = 0.5;
  FeatureEncoder encoder(genres_feature(), options, make_local_table);
  FeatureEncoder plain(genres_feature(), encoder_options(6), make_local_table);  // the same rows
  const torch::Tensor values = torch::tensor({3, 4, 5}, torch::kInt64).reshape({1, 3});
  encoder->eval();
  const torch::Tensor normed = encoder(values)[0];
  EXPECT_TRUE(torch::allclose(normed, torch::layer_norm(plain(values)[0], {6}), 1e-5, 1e-6));
  encoder->train();
  const torch::Tensor dropped = encoder(values)[0];
  const torch::Tensor zeroed = dropped == 0;
  EXPECT_GT(zeroed.sum().item<int64_t>(), 0);
  EXPECT_TRUE(torch::allclose(dropped.masked_select(zeroed.logical_not()), 2 * normed.masked_select(zeroed.logical_not())));
}

TEST(ModelInputBlock, ItemMultiGatesTheItemEmbeddingWithTheSideFeatures) {
  InputBlockOptions options = small_input(false);
  options.aggregation = Aggregation::ItemMulti;
  options.layer_norm = false;
  InputBlock input(model_test_schema(30), options, make_local_table);
  const Batch batch = model_test_batch({{5, 6, 7}}, 6);
  auto p = input->named_parameters();
  // An item whose row is zero contributes nothing, whatever its side features.
  {
    torch::NoGradGuard no_grad;
    p["items.weight"][6].zero_();
  }
  const torch::Tensor gated = input(batch.features, batch.mask) - p["positions.weight"];
  EXPECT_TRUE(torch::allclose(gated[0][1], torch::zeros({16}), 0, 1e-6));
  EXPECT_GT(gated[0][0].abs().sum().item<float>(), 0);
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
