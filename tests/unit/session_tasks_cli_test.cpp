// seqrec train with session heads and the sampled protocol on a slice of MovieLens-100K
// (gender and age as the users' context features) -> result.json, metrics.jsonl,
// model.h5 -> evaluate, end to end through the binary.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

using test::run_seqrec;
using test::TempDir;

class SessionTasksCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::filesystem::path ml = test::shared_data("ml-100k");
    if (!std::filesystem::exists(ml / "ml-100k.inter")) GTEST_SKIP() << "no ml-100k under " << ml;
    // The first 4,000 ratings: many users, a few events each.
    std::ifstream in(ml / "ml-100k.inter");
    std::ostringstream slice;
    std::string line;
    for (int n = 0; n < 4001 && std::getline(in, line); ++n) slice << line << '\n';
    const auto inter = dir_->write("slice.inter", slice.str());
    const auto prepared = run_seqrec({"prepare", "--input", inter.string(), "--output", data().string(),
                                      "--user-col", "user_id", "--time-col", "timestamp", "--user-side",
                                      (ml / "ml-100k.user").string(), "--user-categorical", "gender,occupation",
                                      "--user-continuous", "age"});
    ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
    const auto trained = run_seqrec(train_args(run(), {}));
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }
  static void TearDownTestSuite() { delete dir_; }

  // The options every run here shares, `changes` replacing or adding some.
  static std::vector<std::string> train_args(const std::filesystem::path& run_dir,
                                             const std::map<std::string, std::string>& changes) {
    std::map<std::string, std::string> options = {
        {"data.path", data().string()}, {"train.epochs", "2"}, {"train.batch_size", "32"}, {"model.d_model", "16"},
        {"train.threads", "1"}, {"data.max_seq_len", "20"}, {"model.tasks", "next-item,classify:gender,regress:age"},
        {"model.task_weights", "1,1,0.5"}, {"model.summary", "mean"}, {"eval.sampled_negatives", "20"},
        {"train.log_every", "10"}, {"train.run_dir", run_dir.string()}};
    for (const auto& [name, value] : changes) options[name] = value;
    std::vector<std::string> args = {"train"};
    for (const auto& [name, value] : options) args.insert(args.end(), {"--" + name, value});
    return args;
  }
  static std::filesystem::path data() { return *dir_ / "data"; }
  static std::filesystem::path run() { return *dir_ / "run"; }

  static TempDir* dir_;
};

TempDir* SessionTasksCliTest::dir_ = nullptr;

TEST_F(SessionTasksCliTest, ResultAndLogHoldEveryTasksMetrics) {
  const auto result = nlohmann::json::parse(test::read_file(run() / "result.json"));
  for (const char* name : {"ndcg@10", "sampled_ndcg@10", "sampled_hr@10", "gender/auc", "gender/accuracy",
                           "gender/log_loss", "age/rmse", "age/mae"}) {
    EXPECT_TRUE(result["test"].contains(name)) << name;
    EXPECT_TRUE(result["best_valid"].contains(name)) << name;
  }
  EXPECT_TRUE(result["test_popularity"].contains("sampled_ndcg@10"));
  EXPECT_FALSE(result["test_popularity"].contains("gender/auc"));
  // Ages of users lie in 7..73: an RMSE in years, not in standard deviations.
  EXPECT_GT(result["test"]["age/rmse"].get<double>(), 1.0);
  std::istringstream log(test::read_file(run() / "metrics.jsonl"));
  std::string line;
  int valid = 0, train = 0;
  while (std::getline(log, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j["event"] == "valid") valid += j.contains("gender/auc") && j.contains("age/mae");
    if (j["event"] != "train") continue;
    ++train;
    // Each task's own mean loss next to the weighted total (task weights 1, 1, 0.5).
    ASSERT_TRUE(j.contains("gender/loss") && j.contains("age/loss")) << line;
    EXPECT_GT(j["gender/loss"].get<double>(), 0) << line;
    EXPECT_GT(j["loss"].get<double>(), j["gender/loss"].get<double>() + 0.5 * j["age/loss"].get<double>()) << line;
  }
  EXPECT_EQ(valid, 2);
  EXPECT_GT(train, 0);
}

TEST_F(SessionTasksCliTest, EvaluateWithTheModelFileGivesTheTestMetrics) {
  TempDir out;
  const auto evaluated = run_seqrec({"evaluate", "--model", (run() / "model.h5").string(), "--data", data().string(),
                                     "--threads", "1", "--sampled_negatives", "20", "--output",
                                     (out / "metrics.json").string()});
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  EXPECT_NE(evaluated.out.find("gender/auc"), std::string::npos) << evaluated.out;
  const auto metrics = nlohmann::json::parse(test::read_file(out / "metrics.json"));
  const auto trained = nlohmann::json::parse(test::read_file(run() / "result.json"));
  ASSERT_EQ(metrics["metrics"].size(), trained["test"].size());
  for (const auto& [name, value] : trained["test"].items()) {
    EXPECT_NEAR(metrics["metrics"][name].get<double>(), value.get<double>(), 1e-9) << name;
  }
}

TEST_F(SessionTasksCliTest, AnErrorMetricMonitorsAndBadTasksNameTheirOption) {
  TempDir out;
  const auto monitored = run_seqrec(train_args(out / "monitored", {{"train.monitor", "age/rmse"}, {"train.epochs", "1"}}));
  EXPECT_EQ(monitored.exit_code, 0) << monitored.err;
  const auto sequence = run_seqrec(train_args(out / "bad", {{"model.tasks", "next-item,classify:item_id,regress:age"}}));
  EXPECT_EQ(sequence.exit_code, 2);
  EXPECT_NE(sequence.err.find("model.tasks"), std::string::npos) << sequence.err;
  EXPECT_NE(sequence.err.find("gender"), std::string::npos) << sequence.err;  // lists the context features
  const auto regress = run_seqrec(train_args(out / "bad", {{"model.tasks", "next-item,regress:gender,classify:occupation"}}));
  EXPECT_EQ(regress.exit_code, 2);
  EXPECT_NE(regress.err.find("continuous"), std::string::npos) << regress.err;
  const auto weights = run_seqrec(train_args(out / "bad", {{"model.task_weights", "1,x,1"}}));
  EXPECT_EQ(weights.exit_code, 2);
  EXPECT_NE(weights.err.find("model.task_weights"), std::string::npos) << weights.err;
  const auto distribution = run_seqrec(train_args(out / "bad", {{"eval.sampled_distribution", "zipf"}}));
  EXPECT_EQ(distribution.exit_code, 2);
  EXPECT_NE(distribution.err.find("popularity"), std::string::npos) << distribution.err;
}

}  // namespace
}  // namespace seqrec
