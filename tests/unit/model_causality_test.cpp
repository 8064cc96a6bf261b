// Causal bodies never look ahead; bidirectional ones do.
#include <gtest/gtest.h>

#include "seqrec/model/sequential_recommender.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::model_test_batch;
using test::model_test_schema;
using test::small_model_options;

// Outputs at every slot for two sessions that differ only in the event at slot 3.
std::pair<torch::Tensor, torch::Tensor> outputs_around_a_change(const ModelOptions& options, PaddingSide padding) {
  torch::manual_seed(7);
  Recommender model = build_recommender(options, model_test_schema(30));
  model->eval();
  torch::NoGradGuard no_grad;
  auto& sequential = dynamic_cast<SequentialRecommenderImpl&>(*model);
  const auto encode = [&](const std::vector<int64_t>& items) {
    const Batch batch = model_test_batch({items}, 8, padding);
    return sequential.encode({batch.features, batch.mask, {}, {}, {}, {}})[0];
  };
  return {encode({5, 6, 7, 8, 9, 10}), encode({5, 6, 7, 21, 9, 10})};
}

TEST(ModelCausality, CausalBodiesNeverSeeLaterEvents) {
  for (const std::string body : {"sasrec", "transformer", "gru4rec", "hstu"}) {
    for (const PaddingSide padding : {PaddingSide::Right, PaddingSide::Left}) {
      const auto [before, after] = outputs_around_a_change(small_model_options(body, "clm", "ce"), padding);
      // Slot of the change: 3 with right padding, 2 + 3 with left padding in 8 slots.
      const int64_t changed = padding == PaddingSide::Right ? 3 : 5;
      EXPECT_TRUE(torch::equal(before.slice(0, 0, changed), after.slice(0, 0, changed))) << body;
      EXPECT_FALSE(torch::allclose(before[changed], after[changed])) << body;
    }
  }
}

TEST(ModelCausality, MaskedModelsSeeBothSides) {
  const auto [before, after] =
      outputs_around_a_change(small_model_options("transformer", "mlm", "ce"), PaddingSide::Right);
  EXPECT_FALSE(torch::allclose(before[0], after[0]));
  EXPECT_FALSE(torch::allclose(before[2], after[2]));
}

}  // namespace
}  // namespace seqrec::model
