// The HSTU body: padding stays out of real events, and the relative bias sees event
// distances and time gaps.
#include <gtest/gtest.h>

#include "seqrec/model/hstu_body.h"
#include "seqrec/model/sequential_recommender.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::model_test_batch;
using test::model_test_schema;
using test::small_model_options;

HstuOptions small_hstu(int64_t time_buckets) {
  HstuOptions options;
  options.d_model = 16;
  options.layers = 2;
  options.heads = 2;
  options.dropout = 0.0;
  options.max_seq_len = 6;
  options.position_buckets = 4;  // fewer than the distances: the logarithmic buckets are used
  options.time_buckets = time_buckets;
  return options;
}

// Sessions of `lengths` events laid into `slots` on the right or the left.
struct Placed {
  torch::Tensor x, mask, times;
};

Placed place(const torch::Tensor& events, const torch::Tensor& times, const std::vector<int64_t>& lengths,
             bool left) {
  const int64_t slots = events.size(1);
  // Padding holds noise, not zeros: whatever it holds must not reach real events.
  Placed p{torch::randn_like(events), torch::zeros({events.size(0), slots}, torch::kBool),
           torch::rand_like(times) * 1e6};
  for (int64_t s = 0; s < events.size(0); ++s) {
    const int64_t n = lengths[s];
    const int64_t first = left ? slots - n : 0;
    p.x[s].slice(0, first, first + n).copy_(events[s].slice(0, 0, n));
    p.times[s].slice(0, first, first + n).copy_(times[s].slice(0, 0, n));
    p.mask[s].slice(0, first, first + n).fill_(true);
  }
  return p;
}

TEST(ModelHstuBody, LeftAndRightPaddingAgreeAtRealEventsAndPaddingIsZero) {
  torch::manual_seed(21);
  HstuBody body(small_hstu(8));
  const std::vector<int64_t> lengths{6, 4, 1, 0};
  const torch::Tensor events = torch::randn({4, 6, 16});
  const torch::Tensor times = torch::arange(6, torch::kFloat64).mul(100).expand({4, 6}).contiguous();
  const Placed right = place(events, times, lengths, false), left = place(events, times, lengths, true);
  torch::NoGradGuard no_grad;
  const torch::Tensor from_right = body->forward_with_times(right.x, right.mask, right.times);
  const torch::Tensor from_left = body->forward_with_times(left.x, left.mask, left.times);
  EXPECT_EQ(from_right.sizes(), events.sizes());
  for (int64_t s = 0; s < 4; ++s) {
    const int64_t n = lengths[s];
    EXPECT_TRUE(torch::allclose(from_right[s].slice(0, 0, n), from_left[s].slice(0, 6 - n), 1e-5, 1e-6)) << s;
    EXPECT_EQ(from_right[s].slice(0, n).abs().sum().item<double>(), 0) << s;
    EXPECT_EQ(from_left[s].slice(0, 0, 6 - n).abs().sum().item<double>(), 0) << s;
  }
  // Real events are not all alike: the comparison above is not between zeros.
  EXPECT_GT(from_right[0].std().item<double>(), 0.1);
}

TEST(ModelHstuBody, TimeGapsMoveTheOutputOnlyWithATimeBias) {
  torch::manual_seed(22);
  const torch::Tensor x = torch::randn({1, 6, 16});
  const torch::Tensor mask = torch::ones({1, 6}, torch::kBool);
  const torch::Tensor times = torch::tensor({0.0, 10.0, 20.0, 30.0, 40.0, 50.0}, torch::kFloat64).unsqueeze(0);
  torch::Tensor later = times.clone();
  later[0][2] = 1e5;  // the third event much later: new gaps to it from every other event
  torch::NoGradGuard no_grad;

  HstuBody timed(small_hstu(16));
  const torch::Tensor before = timed->forward_with_times(x, mask, times);
  const torch::Tensor after = timed->forward_with_times(x, mask, later);
  EXPECT_TRUE(torch::equal(before[0].slice(0, 0, 2), after[0].slice(0, 0, 2)));  // causal: earlier events
  for (int64_t slot = 2; slot < 6; ++slot) EXPECT_FALSE(torch::allclose(before[0][slot], after[0][slot])) << slot;

  HstuBody untimed(small_hstu(0));
  EXPECT_TRUE(torch::equal(untimed->forward_with_times(x, mask, times), untimed->forward_with_times(x, mask, later)));
  EXPECT_TRUE(torch::equal(untimed->forward_with_times(x, mask, times), untimed->forward(x, mask)));
}

TEST(ModelHstuBody, RecommenderHandsTheBatchTimesToTheBody) {
  torch::manual_seed(23);
  Recommender model = build_recommender(small_model_options("hstu", "clm", "ce"), model_test_schema(30));
  model->eval();
  torch::NoGradGuard no_grad;
  auto& sequential = dynamic_cast<SequentialRecommenderImpl&>(*model);
  Batch batch = model_test_batch({{5, 6, 7, 8}}, 8);
  const torch::Tensor before = sequential.encode(sequential.masking().inference(batch));
  batch.features.at("time")[0][1] = 1e6;
  const torch::Tensor after = sequential.encode(sequential.masking().inference(batch));
  EXPECT_TRUE(torch::equal(before[0][0], after[0][0]));
  EXPECT_FALSE(torch::allclose(before[0][3], after[0][3]));
  EXPECT_TRUE(model->named_parameters().contains("body.blocks.0.bias.times.weight"));
}

TEST(ModelHstuBody, RelativeBuckets) {
  RelativeBiasOptions options;
  options.max_seq_len = 50;
  options.position_buckets = 8;
  options.time_buckets = 10;
  const torch::Tensor times = torch::tensor({0.0, 0.5, 2.0, 100.0, 1e9}, torch::kFloat64).unsqueeze(0);
  const RelativeBuckets wide = relative_buckets(50, {}, options);
  EXPECT_FALSE(wide.times.defined());
  const torch::Tensor by_distance = wide.positions.select(1, 0);  // query i, key 0: distance i
  EXPECT_TRUE(torch::equal(by_distance.slice(0, 0, 4), torch::arange(4)));  // exact below half the buckets
  EXPECT_EQ(by_distance[49].item<int64_t>(), 7);                            // the longest distance: the last
  EXPECT_TRUE((by_distance.slice(0, 1) >= by_distance.slice(0, 0, 49)).all().item<bool>());
  EXPECT_EQ(wide.positions[0][3].item<int64_t>(), 0);  // a later key: masked, bucket 0

  const torch::Tensor by_gap = relative_buckets(5, times, options).times[0].select(1, 0);
  // Gaps under 1 s share bucket 0; 2 s: ln 2 / 0.301 = 2.3; 100 s: 15.3, past the last.
  EXPECT_TRUE(torch::equal(by_gap, torch::tensor({0, 0, 2, 9, 9}, torch::kInt64)));
}

// A rank's share of a step may be empty; it still joins backward.
TEST(ModelHstuBody, EmptyBatch) {
  HstuBody body(small_hstu(8));
  const torch::Tensor out =
      body->forward_with_times(torch::zeros({0, 6, 16}), torch::zeros({0, 6}, torch::kBool),
                               torch::zeros({0, 6}, torch::kFloat64));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 6, 16}));
  out.sum().backward();
  for (const auto& parameter : body->named_parameters()) {
    EXPECT_TRUE(parameter.value().grad().defined()) << parameter.key();
  }
}

}  // namespace
}  // namespace seqrec::model
