// Checkpoints continue training exactly, on the same or another number of ranks.
//
// - Same rank count (one rank alone, and all ranks of the job): a run that saves and a
//   fresh model resumed from one of its checkpoints end with every parameter, every loss
//   and the test metrics bit for bit those of a run that never stopped; with dropout and
//   sampled negatives, so generator states and step keys must come back too.
// - Another rank count (2 -> 3, 3 -> 1, 1 -> 2, as the job's size allows): each rank's
//   rows of the sharded tables, their row-wise Adam moments and step counts, and the
//   replicated parameters equal the saved ones (reassembled here from the files by global
//   id), and training continues with the losses of the run that never stopped.
#include <mpi.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "seqrec/comm/mpi_communicator.h"
#include "seqrec/data/dataset.h"
#include "seqrec/data/hdf5_file.h"
#include "seqrec/parallel/parameter_groups.h"
#include "seqrec/parallel/sharded_embedding_table.h"
#include "seqrec/train/checkpoint_manifest.h"
#include "seqrec/train/checkpoint_reader.h"
#include "seqrec/train/checkpoint_store.h"
#include "seqrec/train/trainer.h"
#include "support/process.h"

namespace seqrec::train {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kSeed = 11;

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// The first n ranks of the job as a communicator; nullptr on the others.
std::shared_ptr<comm::Communicator> first_ranks(int n) {
  MPI_Comm sub = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, world_rank() < n ? 0 : MPI_UNDEFINED, world_rank(), &sub);
  if (sub == MPI_COMM_NULL) return nullptr;
  auto comm = std::make_shared<comm::MpiCommunicator>(std::chrono::seconds(120), sub);
  MPI_Comm_free(&sub);
  return comm;
}

model::ModelOptions model_options(double dropout) {
  model::ModelOptions o;
  o.body = "sasrec";
  o.masking = "clm";
  o.loss = "sampled";
  o.negatives = 20;
  o.d_model = 16;
  o.layers = 1;
  o.heads = 1;
  o.dropout = dropout;
  o.max_seq_len = 20;
  o.seed = kSeed;
  return o;
}

TrainOptions train_options(const fs::path& run_dir, int64_t max_steps, int64_t every_steps,
                           const std::string& resume = "never") {
  TrainOptions o;
  o.epochs = 20;
  o.max_steps = max_steps;
  o.batch_size = 32;
  o.lr = 3e-3;
  o.weight_decay = 0.01;
  o.eval_every = 4;
  o.patience = 0;
  o.log_every = 2;
  o.seed = kSeed;
  o.threads = 1;
  o.run_dir = run_dir.string();
  o.checkpoint.every_steps = every_steps;
  o.checkpoint.every_minutes = 0;
  o.checkpoint.keep = 10;
  o.checkpoint.resume = resume;
  return o;
}

// Every parameter and buffer by name, sharded tables reassembled whole (same on all ranks).
std::map<std::string, torch::Tensor> whole_weights(torch::nn::Module& model, comm::Communicator& comm) {
  std::map<const void*, std::shared_ptr<parallel::ShardedEmbeddingTableImpl>> tables;
  for (const auto& table : parallel::parameter_groups(model).sharded) tables[table->shard().unsafeGetTensorImpl()] = table;
  std::map<std::string, torch::Tensor> out;
  for (const auto& b : model.named_buffers()) out[b.key()] = b.value().detach().clone();
  for (const auto& p : model.named_parameters()) {
    const auto table = tables.find(p.value().unsafeGetTensorImpl());
    if (table == tables.end()) {
      out[p.key()] = p.value().detach().clone();
      continue;
    }
    torch::Tensor whole = torch::zeros({table->second->rows(), table->second->dim()});
    whole.index_copy_(0, table->second->global_ids(), p.value().detach());
    comm.all_reduce(whole, comm::ReduceOp::Sum);
    out[p.key()] = whole;
  }
  return out;
}

model::Recommender build(const Dataset& dataset, std::shared_ptr<comm::Communicator> comm, double dropout) {
  torch::manual_seed(kSeed);  // as seqrec train does
  return model::build_recommender(model_options(dropout), dataset.schema(), parallel::sharded_table_factory(comm, 0));
}

struct Run {
  TrainResult result;
  std::map<std::string, torch::Tensor> best;  // the model train_model leaves: the best weights
  std::map<std::string, torch::Tensor> last;  // the final checkpoint's last weights
};

Run train_run(const Dataset& dataset, std::shared_ptr<comm::Communicator> comm, const TrainOptions& options,
              double dropout) {
  model::Recommender model = build(dataset, comm, dropout);
  Run run;
  run.result = train_model(model, dataset, options, model_options(dropout).max_seq_len, comm);
  run.best = whole_weights(*model, *comm);
  model::Recommender reloaded = build(dataset, comm, dropout);
  const fs::path final_step = CheckpointStore(fs::path(options.run_dir) / "ckpt", 1).committed().at(0);
  load_checkpoint_weights(final_step, *reloaded, *comm);
  run.last = whole_weights(*reloaded, *comm);
  return run;
}

void expect_bitwise_equal(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b,
                          const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (const auto& [name, value] : a) {
    ASSERT_TRUE(b.count(name)) << what << ": " << name;
    EXPECT_TRUE(torch::equal(value, b.at(name))) << what << ": " << name << " differs";
  }
}

class CheckpointMpiTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    int64_t pid = getpid();
    MPI_Bcast(&pid, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
    root_ = new fs::path(fs::temp_directory_path() / ("seqrec-checkpoint-mpi-" + std::to_string(pid)));
    int ok = 1;
    if (world_rank() == 0) {
      fs::remove_all(*root_);
      fs::create_directories(*root_);
      const auto prepared = test::run_seqrec({"prepare", "--synthetic", "--synthetic.users", "300", "--synthetic.items",
                                              "97", "--output", (*root_ / "data").string()});
      ok = prepared.exit_code == 0;
      if (!ok) std::fprintf(stderr, "prepare failed: %s\n", prepared.err.c_str());
    }
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (ok) dataset_ = new Dataset(Dataset::open(*root_ / "data"));
  }
  static void TearDownTestSuite() {
    delete dataset_;
    dataset_ = nullptr;
    MPI_Barrier(MPI_COMM_WORLD);
    if (world_rank() == 0) fs::remove_all(*root_);
    delete root_;
  }
  void SetUp() override { ASSERT_NE(dataset_, nullptr) << "the synthetic data set could not be prepared"; }

  static inline fs::path* root_ = nullptr;
  static inline Dataset* dataset_ = nullptr;
};

// Trains 10 steps straight, and again saving every 3 steps; then fresh models resume from
// the checkpoints of steps 3 and 6 and finish the 10 steps.
void check_resume_is_exact(const Dataset& dataset, std::shared_ptr<comm::Communicator> comm, const fs::path& dir) {
  constexpr int64_t kSteps = 10;
  constexpr double kDropout = 0.3;
  const Run straight = train_run(dataset, comm, train_options(dir / "straight", kSteps, 0), kDropout);
  const Run saving = train_run(dataset, comm, train_options(dir / "saving", kSteps, 3), kDropout);
  ASSERT_EQ(straight.result.losses.size(), static_cast<size_t>(kSteps));
  EXPECT_EQ(saving.result.losses, straight.result.losses) << "saving checkpoints changed the training";
  expect_bitwise_equal(saving.last, straight.last, "saving run");
  for (int64_t from : {3, 6}) {
    const fs::path checkpoint = dir / "saving" / "ckpt" / CheckpointStore::step_name(from);
    const Run resumed = train_run(dataset, comm, train_options(dir / ("resumed-" + std::to_string(from)), kSteps, 0,
                                                               checkpoint.string()),
                                  kDropout);
    const std::vector<double> rest(straight.result.losses.begin() + from, straight.result.losses.end());
    EXPECT_EQ(resumed.result.losses, rest) << "resumed from step " << from;
    EXPECT_EQ(resumed.result.steps, kSteps);
    EXPECT_EQ(resumed.result.best_step, straight.result.best_step);
    EXPECT_EQ(resumed.result.best_valid, straight.result.best_valid);
    EXPECT_EQ(resumed.result.test, straight.result.test);
    expect_bitwise_equal(resumed.last, straight.last, "last weights resumed from step " + std::to_string(from));
    expect_bitwise_equal(resumed.best, straight.best, "best weights resumed from step " + std::to_string(from));
  }
}

TEST_F(CheckpointMpiTest, OneRankResumesBitForBit) {
  // Every rank alone, in its own directory.
  const auto alone = std::make_shared<comm::MpiCommunicator>(std::chrono::seconds(120), MPI_COMM_SELF);
  check_resume_is_exact(*dataset_, alone, *root_ / ("alone-" + std::to_string(world_rank())));
}

TEST_F(CheckpointMpiTest, AllRanksResumeBitForBit) {
  const auto world = std::make_shared<comm::MpiCommunicator>(std::chrono::seconds(120));
  check_resume_is_exact(*dataset_, world, *root_ / "world");
}

// The saved rows of a table, reassembled whole from every rank file by global id:
// dataset name -> [rows, ...].
std::map<std::string, torch::Tensor> saved_table(const fs::path& step_dir, const std::string& table,
                                                 const std::vector<std::string>& datasets) {
  const CheckpointManifest manifest = read_manifest(step_dir);
  const int64_t rows = manifest.sharded_tables.at(table).rows;
  std::map<std::string, torch::Tensor> whole;
  for (const auto& file_entry : manifest.files) {
    const h5::File file = h5::File::open_read_only((step_dir / file_entry.name).string());
    const std::string group = "/tables/" + table + "/";
    const int64_t n = file.shape(group + "ids")[0];
    std::vector<int64_t> id_values = file.read_rows<int64_t>(group + "ids", 0, n);
    const torch::Tensor ids = torch::tensor(id_values, torch::kLong);
    for (const std::string& name : datasets) {
      const std::vector<int64_t> shape = file.shape(group + name);
      const int64_t width = shape.size() == 2 ? shape[1] : 1;
      torch::Tensor values = name == "optimizer/step"
                                 ? torch::tensor(file.read_rows<int64_t>(group + name, 0, n), torch::kLong)
                                 : torch::tensor(file.read_rows<float>(group + name, 0, n), torch::kFloat);
      values = shape.size() == 2 ? values.view({n, width}) : values;
      if (!whole.count(name)) {
        std::vector<int64_t> sizes = values.sizes().vec();
        sizes[0] = rows;
        whole[name] = torch::full(sizes, -7, values.options());
      }
      whole[name].index_copy_(0, ids, values);
    }
  }
  return whole;
}

void check_reshard(const Dataset& dataset, int from, int to, const fs::path& dir) {
  constexpr int64_t kSteps = 8;
  constexpr int64_t kResumeAt = 4;
  const auto source = first_ranks(from);
  std::vector<double> straight(kSteps, 0.0);
  if (source) {
    const Run run = train_run(dataset, source, train_options(dir / "source", kSteps, kResumeAt), 0.0);
    if (source->rank() == 0) straight = run.result.losses;
    straight.resize(kSteps, 0.0);
  }
  MPI_Bcast(straight.data(), kSteps, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  const fs::path checkpoint = dir / "source" / "ckpt" / CheckpointStore::step_name(kResumeAt);

  const auto target = first_ranks(to);
  if (target) {
    // Loaded directly: each rank's rows, moments and step counts against the files.
    model::Recommender model = build(dataset, target, 0.0);
    DistributedOptimizer optimizer(*model, target, OptimizerOptions{});
    const RestoredTraining restored = load_checkpoint(checkpoint, *model, optimizer, *target);
    EXPECT_EQ(restored.state.step, kResumeAt);
    EXPECT_EQ(restored.manifest.world_size, from);
    std::map<const void*, std::string> names;
    for (const auto& p : model->named_parameters()) names[p.value().unsafeGetTensorImpl()] = p.key();
    const auto& tables = optimizer.groups().sharded;
    ASSERT_FALSE(tables.empty());
    for (size_t i = 0; i < tables.size(); ++i) {
      const std::string name = names.at(tables[i]->shard().unsafeGetTensorImpl());
      const auto saved = saved_table(checkpoint, name,
                                     {"values", "optimizer/exp_avg", "optimizer/exp_avg_sq", "optimizer/step"});
      const torch::Tensor ids = tables[i]->global_ids();
      EXPECT_TRUE(torch::equal(tables[i]->shard().detach(), saved.at("values").index_select(0, ids))) << name;
      EXPECT_GT(saved.at("optimizer/step").max().item<int64_t>(), 0) << "the steps moved no row of " << name;
      for (const auto& [state_name, tensor] : optimizer.sparse(i).state()) {
        EXPECT_TRUE(torch::equal(tensor, saved.at("optimizer/" + state_name).index_select(0, ids)))
            << name << " " << state_name;
      }
      EXPECT_EQ(optimizer.sparse(i).step_count(), kResumeAt) << name;
    }
    const h5::File lead = h5::File::open_read_only((checkpoint / checkpoint_rank_file(0)).string());
    for (const torch::Tensor& p : optimizer.groups().replicated) {
      const std::string name = names.at(p.unsafeGetTensorImpl());
      const std::string path = "/dense/" + name + "/value";
      const torch::Tensor saved = torch::tensor(lead.read_rows<float>(path, 0, lead.shape(path)[0]), torch::kFloat);
      EXPECT_TRUE(torch::equal(p.detach().reshape({-1}), saved)) << name;
    }

    // Trained on from there: the losses of the run that never stopped.
    const Run resumed =
        train_run(dataset, target, train_options(dir / "target", kSteps, 0, checkpoint.string()), 0.0);
    ASSERT_EQ(resumed.result.losses.size(), static_cast<size_t>(kSteps - kResumeAt));
    for (int64_t step = kResumeAt; step < kSteps; ++step) {
      EXPECT_NEAR(resumed.result.losses[step - kResumeAt], straight[step], 1e-5 * std::abs(straight[step]))
          << "step " << step << ", " << from << " -> " << to << " ranks";
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_F(CheckpointMpiTest, ReshardedCheckpointsHoldTheSavedRowsAndContinueTheLoss) {
  int checked = 0;
  for (const auto& [from, to] : std::vector<std::pair<int, int>>{{2, 3}, {3, 1}, {1, 2}}) {
    if (std::max(from, to) > world_size()) continue;
    check_reshard(*dataset_, from, to, *root_ / ("reshard-" + std::to_string(from) + "-" + std::to_string(to)));
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace seqrec::train
