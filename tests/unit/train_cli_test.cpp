// seqrec train end to end through the binary: it learns, it repeats bit for bit, and it
// reports mistakes in its options.
#include <algorithm>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "seqrec/comm/make_communicator.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

using test::run_seqrec;
using test::TempDir;

class TrainCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new TempDir();
    const auto result = run_seqrec({"prepare", "--synthetic", "--synthetic.users", "600", "--synthetic.items", "150",
                                    "--output", (*data_ / "synthetic").string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  static void TearDownTestSuite() { delete data_; }

  static std::vector<std::string> train_args(const std::filesystem::path& run_dir,
                                             const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"train", "--data.path", (*data_ / "synthetic").string(), "--train.epochs", "4",
                                     "--train.batch_size", "64", "--model.d_model", "32", "--train.threads", "1",
                                     "--train.run_dir", run_dir.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  static test::ProcessResult train(const std::filesystem::path& run_dir, const std::vector<std::string>& extra = {}) {
    return run_seqrec(train_args(run_dir, extra));
  }

  static TempDir* data_;
};

TempDir* TrainCliTest::data_ = nullptr;

TEST_F(TrainCliTest, LearnsMoreThanPopularityAndRepeatsBitForBit) {
  TempDir runs;
  for (const char* name : {"a", "b"}) {
    const auto result = train(runs / name);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  const auto a = nlohmann::json::parse(test::read_file(runs / "a" / "result.json"));
  const auto b = nlohmann::json::parse(test::read_file(runs / "b" / "result.json"));
  EXPECT_EQ(a["test"], b["test"]);  // same seed: identical metrics, to the last bit
  EXPECT_TRUE(test::read_file(runs / "a" / "model.h5") == test::read_file(runs / "b" / "model.h5"));
  EXPECT_GT(a["test"]["ndcg@10"].get<double>(), 1.2 * a["test_popularity"]["ndcg@10"].get<double>())
      << a.dump(2);

  // metrics.jsonl holds a validation line per epoch and the test lines.
  const std::string log = test::read_file(runs / "a" / "metrics.jsonl");
  int valid = 0, tests = 0;
  size_t start = 0;
  while (start < log.size()) {
    const size_t end = log.find('\n', start);
    const auto line = nlohmann::json::parse(log.substr(start, end - start));
    valid += line["event"] == "valid";
    tests += line["event"] == "test";
    start = end + 1;
  }
  EXPECT_EQ(valid, 4);
  EXPECT_EQ(tests, 1);
  EXPECT_NE(test::read_file(runs / "a" / "config.ini").find("[model]"), std::string::npos);
}

TEST_F(TrainCliTest, AnotherSeedTrainsAnotherModel) {
  TempDir runs;
  ASSERT_EQ(train(runs / "a", {"--train.max_steps", "5"}).exit_code, 0);
  ASSERT_EQ(train(runs / "b", {"--train.max_steps", "5", "--train.seed", "7"}).exit_code, 0);
  EXPECT_TRUE(test::read_file(runs / "a" / "model.h5") != test::read_file(runs / "b" / "model.h5"));
}

// bf16 autocast (on the CPU here; the GPU is where it pays) trains as well as float32 to
// within this small run's noise, and its weights stay float32 in the model file.
TEST_F(TrainCliTest, Bf16AutocastLearnsAsFloat32Does) {
  TempDir runs;
  ASSERT_EQ(train(runs / "fp32").exit_code, 0);
  const auto bf16 = train(runs / "bf16", {"--train.precision", "bf16"});
  ASSERT_EQ(bf16.exit_code, 0) << bf16.err;
  const auto exact = nlohmann::json::parse(test::read_file(runs / "fp32" / "result.json"));
  const auto mixed = nlohmann::json::parse(test::read_file(runs / "bf16" / "result.json"));
  const double ndcg = mixed["test"]["ndcg@10"].get<double>();
  EXPECT_NE(ndcg, exact["test"]["ndcg@10"].get<double>()) << "bfloat16 did not run";
  EXPECT_GT(ndcg, 0.9 * exact["test"]["ndcg@10"].get<double>()) << mixed.dump(2) << exact.dump(2);
  const auto bad = train(runs / "bad", {"--train.precision", "fp16"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("train.precision"), std::string::npos) << bad.err;
}

// GPU variant, skipped without a CUDA device and the NCCL back end: one rank trains on
// the GPU and learns what the CPU run learns (not the same bits: other kernels).
TEST_F(TrainCliTest, TrainsOnTheGpuWithNccl) {
  if (!torch::cuda::is_available() || !comm::built_with_nccl()) GTEST_SKIP() << "no CUDA device or no NCCL";
  TempDir runs;
  ASSERT_EQ(train(runs / "cpu", {"--dist.backend", "mpi"}).exit_code, 0);
  for (const char* precision : {"fp32", "bf16"}) {
    const auto gpu = train(runs / precision, {"--dist.backend", "nccl", "--train.precision", precision});
    ASSERT_EQ(gpu.exit_code, 0) << gpu.err;
    const auto on_cpu = nlohmann::json::parse(test::read_file(runs / "cpu" / "result.json"));
    const auto on_gpu = nlohmann::json::parse(test::read_file(runs / precision / "result.json"));
    EXPECT_GT(on_gpu["test"]["ndcg@10"].get<double>(), 0.9 * on_cpu["test"]["ndcg@10"].get<double>())
        << precision << on_gpu.dump(2);
  }
}

// GPU variant, skipped without a CUDA device: two ranks share the one GPU (mpi-gpu: MPI
// collectives through host memory) and learn what one rank learns there.
TEST_F(TrainCliTest, TwoRanksSharingTheGpuLearnAsOneDoes) {
  if (!torch::cuda::is_available() || !comm::built_with_nccl()) GTEST_SKIP() << "no CUDA device or no NCCL";
  TempDir runs;
  ASSERT_EQ(train(runs / "one", {"--dist.backend", "mpi-gpu"}).exit_code, 0);
  std::vector<std::string> argv = {SEQREC_MPIEXEC, "-np", "2", "--oversubscribe", "--allow-run-as-root",
                                   SEQREC_BINARY};
  const std::vector<std::string> args = train_args(runs / "two", {"--dist.backend", "mpi-gpu"});
  argv.insert(argv.end(), args.begin(), args.end());
  const auto two = test::run_process(argv);
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const auto one_rank = nlohmann::json::parse(test::read_file(runs / "one" / "result.json"));
  const auto two_ranks = nlohmann::json::parse(test::read_file(runs / "two" / "result.json"));
  EXPECT_GT(two_ranks["test"]["ndcg@10"].get<double>(), 0.9 * one_rank["test"]["ndcg@10"].get<double>())
      << two_ranks.dump(2);
}

TEST_F(TrainCliTest, InvalidModelChoicesAreNamed) {
  TempDir runs;
  const auto result = train(runs / "a", {"--model.masking", "mlm"});  // sasrec is causal only
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("model.masking"), std::string::npos) << result.err;
  const auto missing = run_seqrec({"train", "--data.path", (runs / "nowhere").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nowhere"), std::string::npos) << missing.err;
}

// seqrec bench times the steps train would take: the same loss, step for step.
TEST_F(TrainCliTest, BenchRunsTheStepsTrainingRuns) {
  TempDir runs;
  ASSERT_EQ(train(runs / "a", {"--train.max_steps", "6", "--train.log_every", "6"}).exit_code, 0);
  const std::string json = (runs / "bench.json").string();
  const auto bench = run_seqrec({"bench", "--data.path", (*data_ / "synthetic").string(), "--train.batch_size", "64",
                                 "--model.d_model", "32", "--train.threads", "1", "--bench.warmup_steps", "0",
                                 "--bench.steps", "6", "--bench.json", json, "--bench.trace",
                                 (runs / "trace.json").string()});
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  for (const char* line : {"load ", "train ", "evaluate ", "memory "}) {
    EXPECT_NE(bench.out.find(line), std::string::npos) << bench.out;
  }
  const auto figures = nlohmann::json::parse(test::read_file(json));
  for (const char* key : {"load_sequences_per_s", "train_sequences_per_s", "evaluate_sessions_per_s"}) {
    EXPECT_GT(figures[key].get<double>(), 0) << key;
  }
  const std::string log = test::read_file(runs / "a" / "metrics.jsonl");
  const auto first = nlohmann::json::parse(log.substr(0, log.find('\n')));
  ASSERT_EQ(first["event"], "train") << log;
  EXPECT_DOUBLE_EQ(figures["mean_loss"].get<double>(), first["loss"].get<double>());
  // The traced steps' operators, after the timed ones (which the trace does not slow).
  const auto trace = nlohmann::json::parse(test::read_file(runs / "trace.json"));
  const auto& events = trace.is_object() ? trace["traceEvents"] : trace;
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const nlohmann::json& e) {
    return e.value("name", "") == "aten::mm";
  })) << test::read_file(runs / "trace.json").substr(0, 500);

  const auto bad = run_seqrec({"bench", "--data.path", (*data_ / "synthetic").string(), "--bench.steps", "0"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bench.steps"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace seqrec
