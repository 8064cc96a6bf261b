// Training spread over ranks takes the steps one rank takes.
//
// Each test trains K steps twice on every rank: over all ranks of the job (each rank its
// share of every global batch, the item table row-sharded across them), and alone over
// MPI_COMM_SELF (the whole global batch, the whole table). Losses at every step and all
// final parameters, the sharded tables reassembled by global id, must agree. Dropout is
// off: its masks are each rank's own draws.
#include <mpi.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "seqrec/comm/mpi_communicator.h"
#include "seqrec/core/rng.h"
#include "seqrec/data/loader.h"
#include "seqrec/parallel/parameter_groups.h"
#include "seqrec/parallel/sharded_embedding_table.h"
#include "seqrec/train/agreed_batches.h"
#include "seqrec/train/train_step.h"
#include "support/model_batches.h"
#include "support/shared_random_dataset.h"
#include "support/world_and_alone_test.h"

namespace seqrec::train {
namespace {

constexpr int64_t kGlobalBatch = 30;
constexpr int64_t kSteps = 5;
constexpr int64_t kMaxSeqLen = 12;

test::RandomDatasetOptions data_options() {
  test::RandomDatasetOptions options;
  options.train_sessions = 400;
  options.valid_sessions = 20;
  options.train_shards = 3;
  options.block_sessions = 8;
  options.max_length = 15;
  return options;
}

struct ModelSetup {
  std::string name;
  model::ModelOptions model;
  int64_t shard_threshold = 0;  // item table always sharded; here also the tags table (20 rows)
};

model::ModelOptions options(const std::string& body, const std::string& masking, const std::string& loss,
                            bool side_features) {
  model::ModelOptions o = test::small_model_options(body, masking, loss);
  o.d_model = 16;
  o.max_seq_len = kMaxSeqLen;
  o.negatives = 40;
  o.use_side_features = side_features;
  o.seed = 5;
  return o;
}

model::ModelOptions electra_options(const std::string& share, const std::string& loss, bool side_features) {
  model::ModelOptions o = options("electra", "rtd", loss, side_features);
  o.rtd_share = share;
  return o;
}

// Next item plus a session head on the context feature device (three real values),
// weighted: the combined loss divides each term by its own global count.
model::ModelOptions multitask_options() {
  model::ModelOptions o = options("sasrec", "clm", "ce", true);
  o.tasks = {"next-item", "classify:device"};
  o.task_weights = {1, 0.7};
  o.summary = "mean";
  return o;
}

std::vector<ModelSetup> setups() {
  return {
      {"sasrec_clm_ce", options("sasrec", "clm", "ce", false), 0},
      {"bert4rec_mlm_ce", options("transformer", "mlm", "ce", false), 0},
      {"sasrec_side_features_sampled", options("sasrec", "clm", "sampled", true), 10},
      {"transformer_side_features_bce_replicated", options("transformer", "clm", "bce", true), -1},
      {"hstu_clm_ce", options("hstu", "clm", "ce", false), 0},
      {"hstu_side_features_bpr_max", options("hstu", "clm", "bpr-max", true), 10},
      {"gru4rec_top1_max", options("gru4rec", "clm", "top1-max", false), 0},
      {"xlnet_plm_ce", options("xlnet", "plm", "ce", false), 0},
      {"xlnet_side_features_sampled", options("xlnet", "plm", "sampled", true), 10},
      {"electra_rtd_ce", electra_options("all", "ce", false), 0},
      {"electra_rtd_side_features_embeddings_sampled", electra_options("embeddings", "sampled", true), 10},
      {"sasrec_classify_device_heads", multitask_options(), 10},
  };
}

// What a run ends with, the same on every rank: every parameter by name, sharded tables
// reassembled whole.
struct RunResult {
  std::vector<double> losses;
  std::map<std::string, torch::Tensor> initial;
  std::map<std::string, torch::Tensor> parameters;
  std::vector<int64_t> local_item_rows;  // per sharded table, this rank's rows
};

std::map<std::string, torch::Tensor> whole_parameters(torch::nn::Module& model, comm::Communicator& comm) {
  std::map<std::string, torch::Tensor> out;
  std::map<const void*, std::shared_ptr<parallel::ShardedEmbeddingTableImpl>> tables;
  for (const auto& table : parallel::parameter_groups(model).sharded) {
    tables[table->shard().unsafeGetTensorImpl()] = table;
  }
  for (const auto& named : model.named_parameters()) {
    const torch::Tensor& p = named.value();
    const auto table = tables.find(p.unsafeGetTensorImpl());
    if (table == tables.end()) {
      out[named.key()] = p.detach().clone();
      continue;
    }
    torch::Tensor whole = torch::zeros({table->second->rows(), table->second->dim()});
    whole.index_copy_(0, table->second->global_ids(), p.detach());
    comm.all_reduce(whole, comm::ReduceOp::Sum);
    out[named.key()] = whole;
  }
  return out;
}

RunResult train_steps(const ModelSetup& setup, const Dataset& dataset, std::shared_ptr<comm::Communicator> comm,
                      const std::function<void(Batch&, int64_t)>& edit_batch = {},
                      const std::string& sparse_optimizer = "adam") {
  torch::manual_seed(3);
  model::Recommender model = model::build_recommender(
      setup.model, dataset.schema(), parallel::sharded_table_factory(comm, setup.shard_threshold));
  OptimizerOptions optimizer_options;
  optimizer_options.lr = 1e-3;
  optimizer_options.weight_decay = 0.01;
  optimizer_options.clip_norm = 1.0;
  optimizer_options.bucket_bytes = 4096;  // several buckets even for this small model
  optimizer_options.sparse = sparse_optimizer;
  DistributedOptimizer optimizer(*model, comm, optimizer_options);

  LoaderOptions loader_options;
  loader_options.global_batch_size = kGlobalBatch;
  loader_options.streams = 6;
  loader_options.collate.max_seq_len = kMaxSeqLen;
  loader_options.rank = comm->rank();
  loader_options.world_size = comm->size();
  Loader loader(dataset, loader_options);

  RunResult result;
  result.initial = whole_parameters(*model, *comm);
  for (int64_t step = 0; step < kSteps; ++step) {
    std::optional<Batch> batch = loader.next();
    if (!batch) throw std::runtime_error("the epoch ended before the test's steps");
    if (edit_batch) edit_batch(*batch, step);
    const StepOutcome outcome = train_step(*model, *batch, derive_seed(7, {static_cast<uint64_t>(step)}), optimizer,
                                           *comm, Precision::Float32);
    result.losses.push_back(outcome.skipped ? std::nan("") : outcome.loss);
  }
  result.parameters = whole_parameters(*model, *comm);
  for (const auto& table : parallel::parameter_groups(*model).sharded) {
    result.local_item_rows.push_back(table->local_rows());
  }
  return result;
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).norm().item<double>() /
         std::max(1e-12, b.to(torch::kFloat64).norm().item<double>());
}

class DistributedMpiTest : public test::WorldAndAloneTest {
 protected:
  static void SetUpTestSuite() { set_up("distributed-training", data_options()); }

};

class DistributedTrainingMpiTest : public DistributedMpiTest, public testing::WithParamInterface<ModelSetup> {};

TEST_P(DistributedTrainingMpiTest, RanksTrainWhatOneRankTrains) {
  ASSERT_EQ(shared_->error(), "");
  ASSERT_GT(world_->size(), 1) << "run under mpirun -np 2 or more";
  const RunResult spread = train_steps(GetParam(), shared_->dataset(), world_);
  const RunResult alone = train_steps(GetParam(), shared_->dataset(), alone_);

  ASSERT_EQ(spread.losses.size(), alone.losses.size());
  for (size_t step = 0; step < alone.losses.size(); ++step) {
    EXPECT_NEAR(spread.losses[step], alone.losses[step], 1e-5 * std::abs(alone.losses[step])) << "step " << step;
  }
  // The steps changed the model: equal parameters are not equal initial values.
  double moved = 0;
  for (const auto& [name, value] : alone.parameters) {
    moved = std::max(moved, relative_difference(value, alone.initial.at(name)));
  }
  EXPECT_GT(moved, 1e-2);
  // The model as one vector within 1e-5. Each tensor is held to 3e-4: a zero-initialised
  // bias is small after a few steps, and Adam turns the rounding of its summed gradient
  // (which depends on how the batch is split) into relative differences above 1e-5.
  ASSERT_EQ(spread.parameters.size(), alone.parameters.size());
  double squared_difference = 0, squared_norm = 0;
  for (const auto& [name, value] : alone.parameters) {
    ASSERT_TRUE(spread.parameters.count(name)) << name;
    const torch::Tensor other = spread.parameters.at(name).to(torch::kFloat64);
    squared_difference += (other - value.to(torch::kFloat64)).pow(2).sum().item<double>();
    squared_norm += value.to(torch::kFloat64).pow(2).sum().item<double>();
    EXPECT_LT(relative_difference(other, value), 3e-4) << name;
  }
  EXPECT_LT(std::sqrt(squared_difference / squared_norm), 1e-5);
}

TEST_P(DistributedTrainingMpiTest, EachRankHoldsItsShareOfTheItemRows) {
  ASSERT_EQ(shared_->error(), "");
  if (GetParam().shard_threshold < 0) GTEST_SKIP() << "no sharded tables in this setup";
  const RunResult spread = train_steps(GetParam(), shared_->dataset(), world_);
  const int64_t items = shared_->dataset().schema().item().cardinality;
  const int64_t n = world_->size();
  ASSERT_FALSE(spread.local_item_rows.empty());
  ASSERT_NE(items % n, 0) << "the test wants an item count no rank count divides";
  // The item table comes first: it is built before any side feature's.
  EXPECT_LE(spread.local_item_rows[0], (items + n - 1) / n);
  EXPECT_GE(spread.local_item_rows[0], items / n);
}

INSTANTIATE_TEST_SUITE_P(Models, DistributedTrainingMpiTest, testing::ValuesIn(setups()),
                         [](const testing::TestParamInfo<ModelSetup>& info) { return info.param.name; });

// Parameters by name without the last part: a sharded table's "....shard" and a
// replicated table's "....weight" are the same table.
std::map<std::string, torch::Tensor> by_module(const std::map<std::string, torch::Tensor>& parameters) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, value] : parameters) out[name.substr(0, name.rfind('.'))] = value;
  return out;
}

// sparse_optimizer adam steps every row of a shard each step: the sharded item table
// trains as the replicated one does under AdamW. lazy-adam moves only the rows a batch
// touched, and ends elsewhere.
TEST_F(DistributedMpiTest, ShardedAdamTrainsAsReplicatedAdamW) {
  ASSERT_EQ(shared_->error(), "");
  ModelSetup sharded{"bce", options("sasrec", "clm", "bce", false), 0};
  ModelSetup replicated = sharded;
  replicated.shard_threshold = -1;
  const auto every_row = by_module(train_steps(sharded, shared_->dataset(), world_).parameters);
  const auto dense = by_module(train_steps(replicated, shared_->dataset(), world_).parameters);
  const auto lazy = by_module(train_steps(sharded, shared_->dataset(), world_, {}, "lazy-adam").parameters);
  ASSERT_EQ(every_row.size(), dense.size());
  double lazy_gap = 0;
  for (const auto& [name, value] : dense) {
    ASSERT_TRUE(every_row.count(name)) << name;
    EXPECT_LT(relative_difference(every_row.at(name), value), 1e-4) << name;
    lazy_gap = std::max(lazy_gap, relative_difference(lazy.at(name), value));
  }
  EXPECT_GT(lazy_gap, 1e-3);
}

TEST_F(DistributedMpiTest, ANonFiniteLossOnOneRankSkipsTheStepOnAll) {
  ASSERT_EQ(shared_->error(), "");
  const ModelSetup setup = setups()[2];  // uses the continuous price feature
  const int last = world_->size() - 1;
  const auto poison = [&](Batch& batch, int64_t step) {
    if (step == 2 && world_->rank() == last && batch.size() > 0) batch.features.at("price").fill_(NAN);
  };
  const RunResult poisoned = train_steps(setup, shared_->dataset(), world_, poison);
  EXPECT_TRUE(std::isnan(poisoned.losses[2]));  // skipped, on every rank
  for (int64_t step : {0, 1, 3, 4}) EXPECT_TRUE(std::isfinite(poisoned.losses[step])) << step;
}

TEST_P(DistributedTrainingMpiTest, RanksWhoseDataEndsFirstJoinWithEmptyBatches) {
  ASSERT_EQ(shared_->error(), "");
  // Rank r has r + 1 batches; every rank takes part in as many steps as the longest.
  const ModelSetup& setup = GetParam();
  torch::manual_seed(3);
  model::Recommender model = model::build_recommender(setup.model, shared_->dataset().schema(),
                                                      parallel::sharded_table_factory(world_, setup.shard_threshold));
  DistributedOptimizer optimizer(*model, world_, OptimizerOptions{});
  LoaderOptions loader_options;
  loader_options.global_batch_size = kGlobalBatch;
  loader_options.collate.max_seq_len = kMaxSeqLen;
  loader_options.rank = world_->rank();
  loader_options.world_size = world_->size();
  Loader loader(shared_->dataset(), loader_options);
  const Batch empty =
      collate(SessionBlock::empty(shared_->dataset().schema(), false), shared_->dataset().schema(), loader_options.collate);

  int64_t left = world_->rank() + 1;
  int64_t steps = 0;
  const auto source = [&]() -> std::optional<Batch> { return left-- > 0 ? loader.next() : std::nullopt; };
  while (auto batch = next_agreed(source, empty, *world_)) {
    const StepOutcome outcome = train_step(*model, *batch, steps, optimizer, *world_, Precision::Float32);
    EXPECT_FALSE(outcome.skipped);
    ++steps;
  }
  EXPECT_EQ(steps, world_->size());
}

}  // namespace
}  // namespace seqrec::train
