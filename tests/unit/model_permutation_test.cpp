// Permutation language modelling (plm) and the two-stream XLNet body: which slots are
// targets, what each stream sees, and that the query stream never sees its own item.
#include <gtest/gtest.h>

#include <set>

#include "seqrec/model/masking.h"
#include "seqrec/model/sequential_recommender.h"
#include "seqrec/model/xlnet_body.h"
#include "support/model_batches.h"

namespace seqrec::model {
namespace {

using test::model_test_batch;
using test::model_test_schema;
using test::small_model_options;

// Sessions of `length` events each, items 2.. (none unknown), lengths varied by `spread`.
std::vector<std::vector<int64_t>> sessions_of(int64_t count, int64_t length, int64_t spread = 1) {
  std::vector<std::vector<int64_t>> sessions;
  for (int64_t s = 0; s < count; ++s) {
    std::vector<int64_t> session;
    for (int64_t t = 0; t < length - s % spread; ++t) session.push_back(2 + (s * 7 + t) % 17);
    sessions.push_back(session);
  }
  return sessions;
}

// The real slots of row s in event order.
torch::Tensor events_of(const torch::Tensor& values, const torch::Tensor& mask, int64_t s) {
  return values[s].masked_select(mask[s]);
}

TEST(ModelPermutationMasking, LabelsAreTheTargetsInSpansOfAboutTheAskedShare) {
  const int64_t max_span = 3;
  const Batch batch = model_test_batch(sessions_of(300, 50), 50);
  const MaskedBatch masked = PermutationMasking(model_test_schema(20), 1.0 / 6, max_span).training(batch, 5);
  const torch::Tensor targets = masked.order > 0;

  EXPECT_FALSE(masked.hidden.defined());  // the content stream sees every item
  EXPECT_TRUE(torch::equal(masked.mask, batch.mask));
  EXPECT_TRUE(torch::equal(masked.labels, batch.features.at("item_id") * targets));
  EXPECT_TRUE(targets.any(1).all().item<bool>());
  const double share = targets.sum().item<double>() / batch.mask.sum().item<double>();
  EXPECT_GT(share, 0.14);
  EXPECT_LT(share, 0.19);

  std::set<int64_t> run_lengths;
  for (int64_t s = 0; s < batch.size(); ++s) {
    const torch::Tensor order = events_of(masked.order, batch.mask, s);
    // Targets come after every other event (order 0), in an order 1..T of their own.
    const int64_t count = (order > 0).sum().item<int64_t>();
    const torch::Tensor ranks = std::get<0>(order.masked_select(order > 0).sort());
    EXPECT_TRUE(torch::equal(ranks, torch::arange(1, count + 1, torch::kInt64))) << s;
    // Maximal runs of neighbouring targets: the spans, never longer than max_span.
    int64_t run = 0;
    for (int64_t e = 0; e <= order.size(0); ++e) {
      if (e < order.size(0) && order[e].item<int64_t>() > 0) {
        ++run;
      } else if (run > 0) {
        EXPECT_LE(run, max_span) << s;
        run_lengths.insert(run);
        run = 0;
      }
    }
  }
  EXPECT_EQ(run_lengths, (std::set<int64_t>{1, 2, 3}));
  // The order is a permutation, not the slots': some target precedes an earlier slot's.
  const torch::Tensor later_slot_first = (masked.order.slice(1, 1) > 0) & (masked.order.slice(1, 0, -1) > 0) &
                                         (masked.order.slice(1, 1) < masked.order.slice(1, 0, -1));
  EXPECT_TRUE(later_slot_first.any().item<bool>());
}

TEST(ModelPermutationMasking, EverySessionGetsATargetAndUnknownItemsAreNoLabels) {
  const Batch batch = model_test_batch({{5}, {6, 7}, {8, kUnknownId, 9}}, 6);
  const MaskedBatch masked = PermutationMasking(model_test_schema(20), 0.01, 5).training(batch, 3);
  EXPECT_TRUE((masked.order > 0).any(1).all().item<bool>());
  EXPECT_FALSE(((masked.order > 0) & batch.mask.logical_not()).any().item<bool>());  // padding is never a target
  // Under probability 1 every event is a target, the unknown one too, but it is no label.
  const MaskedBatch all = PermutationMasking(model_test_schema(20), 1.0, 5).training(batch, 3);
  EXPECT_TRUE(torch::equal(all.order > 0, batch.mask));
  const torch::Tensor& items = batch.features.at("item_id");
  EXPECT_TRUE(torch::equal(all.labels, items * (items != kUnknownId)));
}

TEST(ModelPermutationMasking, DrawsFollowTheSessionNotItsBatchOrItsPadding) {
  const auto sessions = sessions_of(60, 12, 9);
  const PermutationMasking plm(model_test_schema(20), 0.3, 4);
  const MaskedBatch whole = plm.training(model_test_batch(sessions, 12), 11);
  Batch share = model_test_batch({sessions.begin() + 20, sessions.begin() + 40}, 12);
  share.session_ids = share.session_ids + 20;
  EXPECT_TRUE(torch::equal(plm.training(share, 11).order, whole.order.slice(0, 20, 40)));
  EXPECT_FALSE(torch::equal(plm.training(share, 12).order, whole.order.slice(0, 20, 40)));

  const Batch left = model_test_batch(sessions, 12, PaddingSide::Left);
  const MaskedBatch from_left = plm.training(left, 11);
  const Batch right = model_test_batch(sessions, 12);
  for (int64_t s = 0; s < 60; ++s) {
    EXPECT_TRUE(torch::equal(events_of(from_left.order, left.mask, s), events_of(whole.order, right.mask, s))) << s;
    EXPECT_TRUE(torch::equal(events_of(from_left.labels, left.mask, s), events_of(whole.labels, right.mask, s))) << s;
  }
}

TEST(ModelPermutationMasking, InferenceAppendsTheOnlyTargetAfterTheLastEvent) {
  const PermutationMasking plm(model_test_schema(20), 1.0 / 6, 5);
  for (const PaddingSide padding : {PaddingSide::Right, PaddingSide::Left}) {
    const Batch batch = model_test_batch({{5, 6}, {2, 3, 4, 5}}, 4, padding);
    const MaskedBatch masked = plm.inference(batch);
    const MaskedBatch mlm = MaskedItemMasking(model_test_schema(20), 0.2).inference(batch);
    EXPECT_TRUE(torch::equal(masked.query, mlm.query));
    EXPECT_TRUE(torch::equal(masked.mask, mlm.mask));
    EXPECT_TRUE(torch::equal(masked.order, torch::one_hot(masked.query, 4)));
    // Its query stream sees every real event and nothing else.
    const TwoStreamMasks masks = two_stream_masks(masked.mask, masked.order);
    for (int64_t s = 0; s < 2; ++s) {
      const int64_t q = masked.query[s].item<int64_t>();
      EXPECT_TRUE(torch::equal(masks.query[s][0][q], masked.mask[s] & masked.order[s].eq(0))) << s;
    }
  }
}

TEST(ModelXlnetBody, StreamMasksFollowTheOrder) {
  torch::manual_seed(4);
  const torch::Tensor mask = torch::tensor({1, 1, 1, 1, 1, 0, 0, 1, 1, 1}).to(torch::kBool).reshape({2, 5});
  const torch::Tensor order = torch::randint(0, 3, {2, 5}, torch::kInt64);
  const TwoStreamMasks masks = two_stream_masks(mask, order);
  ASSERT_EQ(masks.content.sizes(), (std::vector<int64_t>{2, 1, 5, 5}));
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t i = 0; i < 5; ++i) {
      for (int64_t j = 0; j < 5; ++j) {
        const bool real = mask[b][i].item<bool>() && mask[b][j].item<bool>();
        const int64_t oi = order[b][i].item<int64_t>(), oj = order[b][j].item<int64_t>();
        EXPECT_EQ(masks.content[b][0][i][j].item<bool>(), real && oj <= oi) << b << i << j;
        EXPECT_EQ(masks.query[b][0][i][j].item<bool>(), real && oj < oi) << b << i << j;
      }
    }
  }
}

XlnetOptions small_xlnet(bool norm_first) {
  XlnetOptions options;
  options.blocks.d_model = 16;
  options.blocks.layers = 2;
  options.blocks.heads = 2;
  options.blocks.d_ff = 32;
  options.blocks.dropout = 0.0;
  options.blocks.norm_first = norm_first;
  options.max_seq_len = 8;
  options.position_buckets = 4;  // fewer than the distances: the logarithmic buckets are used
  return options;
}

// Changing one slot's content input changes the query stream exactly at the real slots
// later in the order; one slot's query input changes only its own output.
TEST(ModelXlnetBody, QueryStreamSeesTheContentOfSlotsBeforeItInTheOrder) {
  for (const bool norm_first : {true, false}) {
    torch::manual_seed(5);
    XlnetBody body(small_xlnet(norm_first));
    torch::NoGradGuard no_grad;
    const torch::Tensor mask = torch::tensor({1, 1, 1, 1, 1, 1, 0, 0}).to(torch::kBool).unsqueeze(0);
    const torch::Tensor order = torch::tensor({0, 3, 0, 1, 0, 2, 0, 0}, torch::kInt64).unsqueeze(0);
    const torch::Tensor x = torch::randn({1, 8, 16}), queries = torch::randn({1, 8, 16});
    const torch::Tensor base = body->forward_in_order(x, queries, mask, order)[0];
    EXPECT_EQ(base.slice(0, 6).abs().sum().item<double>(), 0);
    for (int64_t j = 0; j < 8; ++j) {
      torch::Tensor changed = x.clone();
      changed[0][j] += torch::randn({16});
      const torch::Tensor out = body->forward_in_order(changed, queries, mask, order)[0];
      for (int64_t i = 0; i < 8; ++i) {
        const bool sees = mask[0][i].item<bool>() && mask[0][j].item<bool>() &&
                          order[0][j].item<int64_t>() < order[0][i].item<int64_t>();
        EXPECT_EQ(!torch::equal(out[i], base[i]), sees) << "norm_first " << norm_first << " slot " << i << " key " << j;
      }
      changed = queries.clone();
      changed[0][j] += torch::randn({16});
      const torch::Tensor own = body->forward_in_order(x, changed, mask, order)[0];
      for (int64_t i = 0; i < 8; ++i) {
        EXPECT_EQ(!torch::equal(own[i], base[i]), i == j && mask[0][j].item<bool>()) << i << " " << j;
      }
    }
  }
}

TEST(ModelXlnetBody, LeftAndRightPaddingAgreeAtRealSlots) {
  torch::manual_seed(6);
  XlnetBody body(small_xlnet(true));
  torch::NoGradGuard no_grad;
  const std::vector<int64_t> lengths{8, 5, 1};
  const torch::Tensor events = torch::randn({3, 8, 16}), starts = torch::randn({3, 8, 16});
  const torch::Tensor event_order = torch::randint(0, 4, {3, 8}, torch::kInt64);
  struct Placed {
    torch::Tensor x, queries, mask, order;
  };
  const auto place = [&](bool left) {
    // Padding holds noise: whatever it holds must not reach real slots.
    Placed p{torch::randn({3, 8, 16}), torch::randn({3, 8, 16}), torch::zeros({3, 8}, torch::kBool),
             torch::randint(0, 4, {3, 8}, torch::kInt64)};
    for (int64_t s = 0; s < 3; ++s) {
      const int64_t n = lengths[s], first = left ? 8 - n : 0;
      p.x[s].slice(0, first, first + n).copy_(events[s].slice(0, 0, n));
      p.queries[s].slice(0, first, first + n).copy_(starts[s].slice(0, 0, n));
      p.order[s].slice(0, first, first + n).copy_(event_order[s].slice(0, 0, n));
      p.mask[s].slice(0, first, first + n).fill_(true);
    }
    return p;
  };
  const Placed right = place(false), left = place(true);
  const torch::Tensor from_right = body->forward_in_order(right.x, right.queries, right.mask, right.order);
  const torch::Tensor from_left = body->forward_in_order(left.x, left.queries, left.mask, left.order);
  for (int64_t s = 0; s < 3; ++s) {
    const int64_t n = lengths[s];
    EXPECT_TRUE(torch::allclose(from_right[s].slice(0, 0, n), from_left[s].slice(0, 8 - n), 1e-5, 1e-6)) << s;
    EXPECT_EQ(from_left[s].slice(0, 0, 8 - n).abs().sum().item<double>(), 0) << s;
  }
  EXPECT_GT(from_right[0].std().item<double>(), 0.1);
}

Recommender small_xlnet_model() {
  torch::manual_seed(8);
  Recommender model = build_recommender(small_model_options("xlnet", "plm", "ce"), model_test_schema(30));
  model->eval();
  return model;
}

// The whole model: the query stream at a target gives the same output whatever item the
// target holds, while targets later in the order see it.
TEST(ModelXlnet, TheQueryStreamAtATargetNeverSeesItsOwnItem) {
  Recommender model = small_xlnet_model();
  auto& sequential = dynamic_cast<SequentialRecommenderImpl&>(*model);
  torch::NoGradGuard no_grad;
  const std::vector<int64_t> items{5, 6, 7, 8, 9, 10, 11, 12};
  int64_t checked = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const MaskedBatch masked = sequential.masking().training(model_test_batch({items}, 8), seed);
    const torch::Tensor base = sequential.encode(masked)[0];
    for (int64_t t = 0; t < 8; ++t) {
      const int64_t place = masked.order[0][t].item<int64_t>();
      if (place == 0) continue;
      std::vector<int64_t> other = items;
      other[static_cast<size_t>(t)] = 21;
      MaskedBatch changed = masked;
      changed.features = model_test_batch({other}, 8).features;
      const torch::Tensor out = sequential.encode(changed)[0];
      EXPECT_TRUE(torch::equal(out[t], base[t])) << "seed " << seed << " slot " << t;
      for (int64_t i = 0; i < 8; ++i) {
        if (masked.order[0][i].item<int64_t>() > place) {
          EXPECT_FALSE(torch::equal(out[i], base[i])) << i;
        }
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}

TEST(ModelXlnet, TheInferenceSlotSeesEveryEvent) {
  Recommender model = small_xlnet_model();
  torch::NoGradGuard no_grad;
  for (const PaddingSide padding : {PaddingSide::Right, PaddingSide::Left}) {
    const std::vector<int64_t> items{5, 6, 7, 8, 9};
    const torch::Tensor base = model->query_states(model_test_batch({items}, 8, padding));
    for (size_t e = 0; e < items.size(); ++e) {
      std::vector<int64_t> other = items;
      other[e] = 21;
      EXPECT_FALSE(torch::allclose(model->query_states(model_test_batch({other}, 8, padding)), base)) << e;
    }
    // A full session gives up its oldest event for the slot.
    const std::vector<int64_t> full{3, 4, 5, 6, 7, 8, 9, 10};
    std::vector<int64_t> older = full;
    older[0] = 21;
    EXPECT_TRUE(torch::equal(model->query_states(model_test_batch({full}, 8, padding)),
                             model->query_states(model_test_batch({older}, 8, padding))));
  }
}

}  // namespace
}  // namespace seqrec::model
