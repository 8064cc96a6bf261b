// The row-sharded table under real ranks, against a local table that holds the same rows
// (both start from initial_rows of the same spec). Rank r's inputs are drawn from a
// generator seeded by r, so every rank can rebuild every rank's share of the batch and
// compute the local reference over the whole batch by itself.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "seqrec/comm/mpi_communicator.h"
#include "seqrec/core/autocast.h"
#include "seqrec/core/error.h"
#include "seqrec/data/schema.h"
#include "seqrec/model/embedding_table.h"
#include "seqrec/parallel/sharded_embedding_table.h"

namespace seqrec::parallel {
namespace {

constexpr int64_t kRows = 103;  // divisible by neither 2 nor 3 ranks
constexpr int64_t kDim = 8;
constexpr int64_t kFirst = 2;  // ids 0 and 1 are not classes

model::TableSpec item_spec(int64_t rows = kRows) {
  model::TableSpec spec;
  spec.name = "item";
  spec.rows = rows;
  spec.dim = kDim;
  spec.init_std = 0.5;
  spec.seed = 11;
  spec.item = true;
  return spec;
}

class ShardedEmbeddingTableMpiTest : public testing::Test {
 protected:
  // A hang in a broken collective aborts the job within a minute instead of at ctest's limit.
  static void SetUpTestSuite() { comm_ = std::make_shared<comm::MpiCommunicator>(std::chrono::seconds(60)); }
  static void TearDownTestSuite() { comm_.reset(); }

  static int rank() { return comm_->rank(); }
  static int size() { return comm_->size(); }

  // [rows, dim]: every rank's shard gradient placed at its global ids and summed over ranks.
  static torch::Tensor whole_gradient(const ShardedEmbeddingTable& table) {
    const torch::Tensor whole = torch::zeros({table->rows(), table->dim()});
    if (table->shard().grad().defined()) whole.index_copy_(0, table->global_ids(), table->shard().grad());
    comm_->all_reduce(whole, comm::ReduceOp::Sum);
    return whole;
  }

  static inline std::shared_ptr<comm::MpiCommunicator> comm_;
};

// Rank r's draws for one test (`stream`), the same wherever they are made.
at::Generator generator(int r, uint64_t stream) { return at::make_generator<at::CPUGeneratorImpl>(1000 * stream + r); }

bool close(const torch::Tensor& actual, const torch::Tensor& expected) {
  return actual.sizes() == expected.sizes() && torch::allclose(actual, expected, /*rtol=*/1e-5, /*atol=*/1e-6);
}

// Sums over thousands of classes or positions, added up in another order: float32
// rounding grows with the largest value, not with each element.
bool close_at_scale(const torch::Tensor& actual, const torch::Tensor& expected) {
  if (actual.sizes() != expected.sizes()) return false;
  return expected.numel() == 0 ||
         (actual - expected).abs().max().item<double>() <= 1e-5 * expected.abs().max().item<double>() + 1e-6;
}

// Rank r's ids: none on rank 1; elsewhere [r + 2, 5] ids below 60 (rows 60..101 are asked
// for by no one) with padding, a repeated id and the last row.
torch::Tensor lookup_ids(int r) {
  if (r == 1) return torch::empty({0, 5}, torch::kLong);
  at::Generator g = generator(r, 1);
  torch::Tensor ids = torch::randint(0, 60, {r + 2, 5}, g, torch::kLong);
  ids[0][0] = kPaddingId;
  ids[0][1] = ids[1][3].item<int64_t>();
  ids[1][0] = kRows - 1;
  return ids;
}

torch::Tensor lookup_weights(int r) {
  at::Generator g = generator(r, 2);
  std::vector<int64_t> sizes = lookup_ids(r).sizes().vec();
  sizes.push_back(kDim);
  return torch::randn(sizes, g);
}

TEST_F(ShardedEmbeddingTableMpiTest, RowsAreDealtByIdModuloRanks) {
  ShardedEmbeddingTable table(item_spec(), comm_);
  const model::LocalEmbeddingTableImpl reference(item_spec());

  int64_t owned = 0;
  for (int64_t id = 0; id < kRows; ++id) owned += id % size() == rank() ? 1 : 0;
  EXPECT_EQ(table->local_rows(), owned);
  EXPECT_LE(table->local_rows(), (kRows + size() - 1) / size());
  EXPECT_EQ(table->rows(), kRows);
  EXPECT_EQ(table->dim(), kDim);
  EXPECT_TRUE(torch::equal(table->global_ids(), torch::arange(rank(), kRows, size())));
  for (int64_t id : {int64_t{0}, int64_t{1}, int64_t{5}, kRows - 1}) EXPECT_EQ(table->owner(id), id % size());

  const auto parameters = table->named_parameters();
  ASSERT_EQ(parameters.size(), 1u);
  EXPECT_EQ(parameters[0].key(), "shard");
  EXPECT_EQ(table->shard().sizes(), (std::vector<int64_t>{owned, kDim}));
  EXPECT_TRUE(torch::equal(table->shard(), reference.weight().index_select(0, table->global_ids())));

  const torch::Tensor total = torch::full({1}, table->local_rows());
  comm_->all_reduce(total, comm::ReduceOp::Sum);
  EXPECT_EQ(total.item<int64_t>(), kRows);
}

TEST_F(ShardedEmbeddingTableMpiTest, LookupAndGradientsEqualALocalTable) {
  ShardedEmbeddingTable table(item_spec(), comm_);
  model::LocalEmbeddingTableImpl reference(item_spec());
  const torch::Tensor ids = lookup_ids(rank());
  const torch::Tensor out = table->forward(ids);
  EXPECT_TRUE(torch::equal(out, reference.forward(ids).detach())) << out;
  (out * lookup_weights(rank())).sum().backward();

  // The local table fed every rank's ids at once.
  std::vector<torch::Tensor> all_ids;
  std::vector<torch::Tensor> all_weights;
  for (int r = 0; r < size(); ++r) {
    all_ids.push_back(lookup_ids(r).reshape({-1}));
    all_weights.push_back(lookup_weights(r).reshape({-1, kDim}));
  }
  (reference.forward(torch::cat(all_ids)) * torch::cat(all_weights)).sum().backward();
  const torch::Tensor gradient = whole_gradient(table);
  EXPECT_TRUE(close(gradient, reference.weight().grad())) << gradient - reference.weight().grad();
  EXPECT_TRUE(torch::equal(gradient[kPaddingId], torch::zeros({kDim})));
  EXPECT_GT(gradient.abs().sum().item<float>(), 0.0f);
}

TEST_F(ShardedEmbeddingTableMpiTest, LookupOfEmptyBatchesEverywhereStillBackpropagates) {
  ShardedEmbeddingTable table(item_spec(), comm_);
  const torch::Tensor out = table->forward(torch::empty({0}, torch::kLong));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, kDim}));
  ASSERT_TRUE(out.requires_grad());
  out.sum().backward();
  EXPECT_TRUE(torch::equal(table->shard().grad(), torch::zeros_like(table->shard())));
  EXPECT_FALSE(table->take_touched_rows().any().item<bool>());
}

TEST_F(ShardedEmbeddingTableMpiTest, TouchedRowsAreTheRowsLookedUpOnAnyRank) {
  ShardedEmbeddingTable table(item_spec(), comm_);
  {
    // Lookups without gradient touch nothing.
    torch::NoGradGuard no_grad;
    table->forward(lookup_ids(rank()));
  }
  EXPECT_FALSE(table->take_touched_rows().any().item<bool>());

  table->forward(lookup_ids(rank())).sum().backward();
  std::vector<torch::Tensor> all_ids;
  for (int r = 0; r < size(); ++r) all_ids.push_back(lookup_ids(r).reshape({-1}));
  const torch::Tensor requested = torch::cat(all_ids);
  const torch::Tensor expected = torch::isin(table->global_ids(), requested.masked_select(requested != kPaddingId));
  const torch::Tensor touched = table->take_touched_rows();
  EXPECT_TRUE(torch::equal(touched, expected)) << touched;
  EXPECT_GT(expected.sum().item<int64_t>(), 0);
  EXPECT_FALSE(table->take_touched_rows().any().item<bool>()) << "taking clears the record";
}

TEST_F(ShardedEmbeddingTableMpiTest, BadIdsOnOneRankFailOnEveryRank) {
  ShardedEmbeddingTable table(item_spec(), comm_);
  const torch::Tensor ids = torch::full({2}, rank() == 0 ? kRows : int64_t{3});
  EXPECT_THROW(table->forward(ids), UserError);
  comm_->barrier();
}

// Rank r's positions for the output layer: none on rank 1.
int64_t positions_of(int r) { return r == 1 ? 0 : 3 + 2 * r; }

torch::Tensor hidden_of(int r, uint64_t stream) {
  at::Generator g = generator(r, stream);
  return torch::randn({positions_of(r), kDim}, g);
}

torch::Tensor labels_of(int r, uint64_t stream) {
  at::Generator g = generator(r, stream + 1);
  return torch::randint(kFirst, kRows, {positions_of(r)}, g, torch::kLong);
}

TEST_F(ShardedEmbeddingTableMpiTest, VocabParallelCrossEntropyEqualsALocalTable) {
  for (double smoothing : {0.0, 0.1}) {
    SCOPED_TRACE(testing::Message() << "label smoothing " << smoothing);
    ShardedEmbeddingTable table(item_spec(), comm_);
    model::LocalEmbeddingTableImpl reference(item_spec());
    const torch::Tensor hidden = hidden_of(rank(), 3).requires_grad_();
    const torch::Tensor loss = table->cross_entropy_sum(hidden, labels_of(rank(), 3), kFirst, smoothing);
    // Each rank scales its own loss differently: its positions must get its own factor.
    (loss * (rank() + 1)).backward();
    const torch::Tensor total = loss.detach().reshape({1}).clone();
    comm_->all_reduce(total, comm::ReduceOp::Sum);

    std::vector<torch::Tensor> reference_hidden;
    torch::Tensor reference_total = torch::zeros({});
    torch::Tensor weighted = torch::zeros({});
    for (int r = 0; r < size(); ++r) {
      reference_hidden.push_back(hidden_of(r, 3).requires_grad_());
      const torch::Tensor part =
          reference.cross_entropy_sum(reference_hidden.back(), labels_of(r, 3), kFirst, smoothing);
      reference_total += part.detach();
      weighted = weighted + part * (r + 1);
    }
    weighted.backward();

    EXPECT_NEAR(total.item<double>(), reference_total.item<double>(), 1e-5 * reference_total.item<double>());
    ASSERT_TRUE(hidden.grad().defined());
    EXPECT_TRUE(close(hidden.grad(), reference_hidden[rank()].grad())) << hidden.grad();
    const torch::Tensor gradient = whole_gradient(table);
    EXPECT_TRUE(close(gradient, reference.weight().grad())) << gradient - reference.weight().grad();
    EXPECT_TRUE(torch::equal(gradient.slice(0, 0, kFirst), torch::zeros({kFirst, kDim})));
    EXPECT_TRUE(torch::equal(table->take_touched_rows(), table->global_ids() >= kFirst));
  }
}

// Under bf16 autocast the products run in bfloat16, forward and backward alike (backward
// itself runs outside autocast): the loss and gradients are float32's to bfloat16's precision.
TEST_F(ShardedEmbeddingTableMpiTest, VocabParallelCrossEntropyUnderBf16AutocastTracksFloat32) {
  ShardedEmbeddingTable table(item_spec(), comm_);
  ShardedEmbeddingTable exact(item_spec(), comm_);
  const torch::Tensor labels = labels_of(rank(), 3);
  const torch::Tensor hidden = hidden_of(rank(), 3).requires_grad_();
  const torch::Tensor hidden_exact = hidden_of(rank(), 3).requires_grad_();
  const torch::Tensor loss = [&] {
    const AutocastScope bf16(torch::kCPU, Precision::BFloat16);
    return table->cross_entropy_sum(hidden, labels, kFirst, 0.0);
  }();
  loss.backward();
  const torch::Tensor loss_exact = exact->cross_entropy_sum(hidden_exact, labels, kFirst, 0.0);
  loss_exact.backward();
  const std::vector<double> totals =
      comm_->all_reduce_values({loss.item<double>(), loss_exact.item<double>()}, comm::ReduceOp::Sum);
  const torch::Tensor gradient = whole_gradient(table);
  const torch::Tensor gradient_exact = whole_gradient(exact);

  EXPECT_EQ(loss.scalar_type(), torch::kFloat32);
  EXPECT_NE(totals[0], totals[1]) << "bfloat16 did not run";
  EXPECT_NEAR(totals[0], totals[1], 1e-2 * totals[1]);
  const auto relative_error = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
  };
  EXPECT_LT(relative_error(gradient, gradient_exact), 3e-2);
  if (hidden.size(0) > 0) {
    EXPECT_LT(relative_error(hidden.grad(), hidden_exact.grad()), 3e-2);
  }
}

// Rank r's queries for ranking: none on rank 1; rank 0's first is the zero vector, whose
// classes all tie. Exclude lists are of different widths on different ranks, hold
// padding, and on every other position the target itself.
struct Queries {
  torch::Tensor hidden;
  torch::Tensor targets;
  torch::Tensor exclude;
};

Queries queries_of(int r) {
  at::Generator g = generator(r, 5);
  const int64_t n = positions_of(r);
  Queries q{torch::randn({n, kDim}, g), torch::randint(kFirst, kRows, {n}, g, torch::kLong),
            torch::randint(0, kRows, {n, 4 + r % 2}, g, torch::kLong)};
  if (n > 0) {
    q.hidden[0].zero_();
    q.exclude.select(1, 1).fill_(kPaddingId);
    q.exclude.select(1, 0).slice(0, 0, n, 2).copy_(q.targets.slice(0, 0, n, 2));
  }
  return q;
}

TEST_F(ShardedEmbeddingTableMpiTest, TargetRanksEqualALocalTable) {
  ShardedEmbeddingTable table(item_spec(), comm_);
  model::LocalEmbeddingTableImpl reference(item_spec());
  const Queries q = queries_of(rank());
  for (const torch::Tensor& exclude : {q.exclude, torch::Tensor()}) {
    SCOPED_TRACE(exclude.defined() ? "with exclude lists" : "without exclude lists");
    const torch::Tensor ranks = table->target_ranks(q.hidden, q.targets, kFirst, exclude);
    const torch::Tensor expected = reference.target_ranks(q.hidden, q.targets, kFirst, exclude);
    EXPECT_TRUE(torch::equal(ranks, expected)) << ranks << "\nexpected\n" << expected;
  }
  // The zero query: every class ties with the target and ranks above it.
  const torch::Tensor ranks = table->target_ranks(q.hidden, q.targets, kFirst, {});
  if (positions_of(rank()) > 0) {
    EXPECT_EQ(ranks[0].item<int64_t>(), kRows - kFirst - 1);
  }
}

TEST_F(ShardedEmbeddingTableMpiTest, TopKEqualsALocalTable) {
  ShardedEmbeddingTable table(item_spec(), comm_);
  model::LocalEmbeddingTableImpl reference(item_spec());
  const Queries q = queries_of(rank());
  // 40 and 60 exceed some rank's own classes under 3 and 2 ranks; the last is every class.
  for (int64_t k : {int64_t{1}, int64_t{7}, int64_t{40}, int64_t{60}, kRows - kFirst}) {
    for (const torch::Tensor& exclude : {q.exclude, torch::Tensor()}) {
      SCOPED_TRACE(testing::Message() << "k " << k << (exclude.defined() ? " with" : " without") << " exclude lists");
      const auto [scores, ids] = table->top_k(q.hidden, k, kFirst, exclude);
      const auto [expected_scores, expected_ids] = reference.top_k(q.hidden, k, kFirst, exclude);
      EXPECT_TRUE(torch::equal(ids, expected_ids)) << ids << "\nexpected\n" << expected_ids;
      EXPECT_TRUE(close(scores, expected_scores)) << scores << "\nexpected\n" << expected_scores;
    }
  }
  EXPECT_THROW(table->top_k(q.hidden, kRows - kFirst + 1, kFirst, {}), UserError);
}

// Keyed Gumbel-max draws: each rank's own classes' best, merged, are the local table's
// draw. Rank r's keys are those a step would give its positions (unique over ranks).
TEST_F(ShardedEmbeddingTableMpiTest, SampleEqualsALocalTable) {
  ShardedEmbeddingTable table(item_spec(), comm_);
  model::LocalEmbeddingTableImpl reference(item_spec());
  const auto keys_of = [](int r) { return torch::arange(positions_of(r)) + 100 * r; };
  for (const double scale : {1.0, 10.0}) {  // near uniform, and peaked
    SCOPED_TRACE(testing::Message() << "hidden scaled by " << scale);
    const torch::Tensor hidden = hidden_of(rank(), 9) * scale;
    const torch::Tensor draws = table->sample(hidden, keys_of(rank()), kFirst, 31);
    EXPECT_TRUE(torch::equal(draws, reference.sample(hidden, keys_of(rank()), kFirst, 31)))
        << draws << "\nexpected\n" << reference.sample(hidden, keys_of(rank()), kFirst, 31);
    if (draws.numel() > 0) {
      EXPECT_GE(draws.min().item<int64_t>(), kFirst);
    }
  }
  EXPECT_THROW(table->sample(hidden_of(rank(), 9), keys_of(rank()), kRows, 31), UserError);
}

// Past the scoring block sizes (8192 classes, 4096 positions): a catalog whose shares
// span several class blocks with few positions, and a small one with positions spanning
// several position blocks. The local reference scores everything at once.
TEST_F(ShardedEmbeddingTableMpiTest, ScoringInBlocksEqualsALocalTable) {
  struct Case {
    int64_t rows;
    int64_t positions;  // on each rank but rank 1
  };
  for (const Case c : {Case{30000, 40}, Case{kRows, 2100 + 2100 / size()}}) {
    SCOPED_TRACE(testing::Message() << c.rows << " rows, " << c.positions << " positions per rank");
    ShardedEmbeddingTable table(item_spec(c.rows), comm_);
    model::LocalEmbeddingTableImpl reference(item_spec(c.rows));
    const auto hidden_on = [&](int r) {
      at::Generator g = generator(r, 7);
      return torch::randn({r == 1 ? 0 : c.positions, kDim}, g);
    };
    const auto targets_on = [&](int r) {
      at::Generator g = generator(r, 8);
      return torch::randint(kFirst, c.rows, {r == 1 ? 0 : c.positions}, g, torch::kLong);
    };
    const torch::Tensor hidden = hidden_on(rank()).requires_grad_();
    const torch::Tensor targets = targets_on(rank());
    const torch::Tensor exclude = targets.unsqueeze(1).flip(0);  // another position's target

    const torch::Tensor loss = table->cross_entropy_sum(hidden, targets, kFirst, 0.1);
    loss.backward();
    const torch::Tensor total = loss.detach().reshape({1}).clone();
    comm_->all_reduce(total, comm::ReduceOp::Sum);
    std::vector<torch::Tensor> reference_hidden;
    torch::Tensor reference_total = torch::zeros({});
    for (int r = 0; r < size(); ++r) {
      reference_hidden.push_back(hidden_on(r).requires_grad_());
      const torch::Tensor part = reference.cross_entropy_sum(reference_hidden.back(), targets_on(r), kFirst, 0.1);
      part.backward();
      reference_total += part.detach();
    }
    EXPECT_NEAR(total.item<double>(), reference_total.item<double>(), 1e-5 * reference_total.item<double>());
    EXPECT_TRUE(close_at_scale(hidden.grad(), reference_hidden[rank()].grad()));
    EXPECT_TRUE(close_at_scale(whole_gradient(table), reference.weight().grad()));

    const torch::Tensor ranks = table->target_ranks(hidden, targets, kFirst, exclude);
    EXPECT_TRUE(torch::equal(ranks, reference.target_ranks(hidden, targets, kFirst, exclude)));
    const auto [scores, ids] = table->top_k(hidden, 20, kFirst, exclude);
    const auto [expected_scores, expected_ids] = reference.top_k(hidden, 20, kFirst, exclude);
    EXPECT_TRUE(torch::equal(ids, expected_ids));
    EXPECT_TRUE(close(scores, expected_scores));
    const torch::Tensor keys = torch::arange(hidden.size(0)) + rank() * c.positions;
    EXPECT_TRUE(torch::equal(table->sample(hidden, keys, kFirst, 5), reference.sample(hidden, keys, kFirst, 5)));
  }
}

// Two rows under 2 or 3 ranks: a rank without rows, one whose only row is padding (no
// classes), a single class.
TEST_F(ShardedEmbeddingTableMpiTest, TableSmallerThanTheRanksStillWorks) {
  ShardedEmbeddingTable table(item_spec(2), comm_);
  model::LocalEmbeddingTableImpl reference(item_spec(2));
  EXPECT_EQ(table->local_rows(), rank() < 2 ? 1 : 0);

  const torch::Tensor ids = torch::tensor({1, 0, 1}, torch::kLong);
  const torch::Tensor out = table->forward(ids);
  EXPECT_TRUE(torch::equal(out, reference.forward(ids).detach()));
  const torch::Tensor hidden = torch::ones({rank() + 1, kDim}).requires_grad_();
  const torch::Tensor loss = table->cross_entropy_sum(hidden, torch::ones({rank() + 1}, torch::kLong), 1, 0.1);
  (out.sum() + loss).backward();
  EXPECT_NEAR(loss.item<double>(), 0.0, 1e-6) << "one class: nothing to lose";
  EXPECT_TRUE(torch::equal(hidden.grad(), torch::zeros_like(hidden)));
  const torch::Tensor gradient = whole_gradient(table);
  EXPECT_TRUE(torch::equal(gradient[0], torch::zeros({kDim})));
  EXPECT_NEAR(gradient[1][0].item<double>(), 2.0 * size(), 1e-5) << "two lookups of id 1 per rank";

  const auto [scores, top] = table->top_k(hidden, 1, 1, {});
  EXPECT_TRUE(torch::equal(top, torch::ones({rank() + 1, 1}, torch::kLong)));
  EXPECT_TRUE(torch::equal(table->target_ranks(hidden, torch::ones({rank() + 1}, torch::kLong), 1, {}),
                           torch::zeros({rank() + 1}, torch::kLong)));
  EXPECT_TRUE(
      torch::equal(table->sample(hidden, torch::arange(rank() + 1), 1, 7), torch::ones({rank() + 1}, torch::kLong)));
}

TEST_F(ShardedEmbeddingTableMpiTest, FactoryShardsTheItemTableAndLargeTables) {
  const auto sharded = [](const std::shared_ptr<model::EmbeddingTableImpl>& table) {
    return std::dynamic_pointer_cast<ShardedEmbeddingTableImpl>(table) != nullptr;
  };
  model::TableSpec small = item_spec(30);
  small.item = false;
  model::TableSpec large = item_spec(60);
  large.item = false;

  const model::TableFactory factory = sharded_table_factory(comm_, 50);
  EXPECT_TRUE(sharded(factory(item_spec(30))));
  EXPECT_FALSE(sharded(factory(small)));
  EXPECT_TRUE(sharded(factory(large)));
  const model::TableFactory never = sharded_table_factory(comm_, -1);
  EXPECT_FALSE(sharded(never(item_spec())));
  EXPECT_FALSE(sharded(never(large)));
}

}  // namespace
}  // namespace seqrec::parallel
