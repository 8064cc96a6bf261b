// seqrec train end to end through the binary: it learns, it repeats bit for bit, and it
// reports mistakes in its options.
#include <algorithm>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

  static test::ProcessResult train(const std::filesystem::path& run_dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"train", "--data.path", (*data_ / "synthetic").string(), "--train.epochs", "4",
                                     "--train.batch_size", "64", "--model.d_model", "32", "--train.threads", "1",
                                     "--train.run_dir", run_dir.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_seqrec(args);
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
