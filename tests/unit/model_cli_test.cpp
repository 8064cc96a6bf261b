// seqrec train -> model.h5 -> evaluate and recommend, end to end through the binary.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/prepared_dataset.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

using test::run_seqrec;
using test::TempDir;

// session_id -> items in rank order, from recommend's CSV output.
std::map<std::string, std::vector<std::string>> read_recommendations(const std::filesystem::path& path) {
  std::istringstream in(test::read_file(path));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "session_id,rank,item_id,score");
  std::map<std::string, std::vector<std::string>> lists;
  while (std::getline(in, line)) {
    const size_t a = line.find(',');
    const size_t b = line.find(',', a + 1);
    const size_t c = line.find(',', b + 1);
    std::vector<std::string>& list = lists[line.substr(0, a)];
    EXPECT_EQ(std::stoll(line.substr(a + 1, b - a - 1)), static_cast<long long>(list.size()) + 1) << line;
    list.push_back(line.substr(b + 1, c - b - 1));
  }
  return lists;
}

class ModelCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ASSERT_EQ(prepare(data(), "120").exit_code, 0);
    const auto trained = run_seqrec({"train", "--data.path", data().string(), "--train.epochs", "2",
                                     "--train.batch_size", "64", "--model.d_model", "16", "--train.threads", "1",
                                     "--model.side_features", "false", "--train.run_dir", run().string()});
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }
  static void TearDownTestSuite() { delete dir_; }

  static test::ProcessResult prepare(const std::filesystem::path& output, const std::string& items) {
    return run_seqrec({"prepare", "--synthetic", "--synthetic.users", "300", "--synthetic.items", items, "--output",
                       output.string()});
  }
  static std::filesystem::path data() { return *dir_ / "data"; }
  static std::filesystem::path run() { return *dir_ / "run"; }
  static std::filesystem::path model() { return run() / "model.h5"; }

  static TempDir* dir_;
};

TempDir* ModelCliTest::dir_ = nullptr;

TEST_F(ModelCliTest, EvaluateGivesTrainingsTestMetrics) {
  TempDir out;
  const auto result = run_seqrec({"evaluate", "--model", model().string(), "--data", data().string(), "--threads", "1",
                                  "--output", (out / "metrics.json").string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("ndcg@10"), std::string::npos) << result.out;
  const auto evaluated = nlohmann::json::parse(test::read_file(out / "metrics.json"));
  const auto trained = nlohmann::json::parse(test::read_file(run() / "result.json"));
  ASSERT_EQ(evaluated["metrics"].size(), trained["test"].size());
  for (const auto& [name, value] : trained["test"].items()) {
    EXPECT_NEAR(evaluated["metrics"][name].get<double>(), value.get<double>(), 1e-9) << name;
    EXPECT_NEAR(evaluated["popularity"][name].get<double>(), trained["test_popularity"][name].get<double>(), 1e-9)
        << name;
  }
}

TEST_F(ModelCliTest, RecommendFromRawItemsAgreesWithTheDataSetAndWithEvaluation) {
  TempDir out;
  const test::PreparedDataset prepared = test::PreparedDataset::open(data());
  const SessionBlock test_split = prepared.read(kSplitTest);
  const std::string item = prepared.dataset.schema().item().name;
  const int64_t column = prepared.column_index(item);
  std::ostringstream csv;
  csv << "session_id,items\n";
  std::map<std::string, std::string> targets;
  for (int64_t s = 0; s < test_split.num_sessions(); ++s) {
    const std::string& key = prepared.session_key.at(test_split.session_ids[s]);
    csv << key << ',';
    for (int64_t e = test_split.offsets[s]; e < test_split.offsets[s + 1]; ++e) {
      csv << (e > test_split.offsets[s] ? " " : "") << prepared.decode(item, test_split.sequence[column], e).at(0);
    }
    csv << '\n';
    targets[key] = prepared.decode(item, test_split.targets[column], s).at(0);
  }
  csv << "stranger,no-such-item\n";  // nothing known: no recommendations
  const auto sessions = out.write("sessions.csv", csv.str());

  const std::vector<std::string> common = {"--model", model().string(), "--k", "10", "--exclude_history", "false",
                                           "--threads", "1", "--batch_size", "17"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    return run_seqrec(args);
  };
  const auto from_file = with({"recommend", "--input", sessions.string(), "--output", (out / "file.csv").string()});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_NE(from_file.err.find("1 items unknown"), std::string::npos) << from_file.err;
  const auto from_data = with({"recommend", "--input", data().string(), "--split", "test", "--output",
                               (out / "data.csv").string()});
  ASSERT_EQ(from_data.exit_code, 0) << from_data.err;
  EXPECT_EQ(test::read_file(out / "file.csv"), test::read_file(out / "data.csv"));

  // The share of sessions whose held-out item is among their 10 is evaluation's hr@10.
  const auto lists = read_recommendations(out / "file.csv");
  ASSERT_EQ(lists.size(), targets.size());
  int64_t hits = 0;
  for (const auto& [key, list] : lists) {
    EXPECT_EQ(list.size(), 10u) << key;
    EXPECT_EQ(std::set<std::string>(list.begin(), list.end()).size(), list.size()) << key;
    hits += std::find(list.begin(), list.end(), targets.at(key)) != list.end();
  }
  const auto evaluated = run_seqrec({"evaluate", "--model", model().string(), "--data", data().string(), "--threads",
                                     "1", "--k", "10", "--output", (out / "metrics.json").string()});
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  const auto metrics = nlohmann::json::parse(test::read_file(out / "metrics.json"));
  EXPECT_NEAR(static_cast<double>(hits) / static_cast<double>(lists.size()), metrics["metrics"]["hr@10"].get<double>(),
              1e-12);

  // JSON lines: the same lists.
  const auto jsonl = with({"recommend", "--input", sessions.string(), "--output", (out / "recs.jsonl").string()});
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.err;
  std::istringstream lines(test::read_file(out / "recs.jsonl"));
  std::string line;
  int64_t count = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["items"].get<std::vector<std::string>>(), lists.at(j["session_id"].get<std::string>()));
    EXPECT_EQ(j["scores"].size(), 10u);
    ++count;
  }
  EXPECT_EQ(count, static_cast<int64_t>(lists.size()));
}

TEST_F(ModelCliTest, RecommendLeavesOutTheHistory) {
  TempDir out;
  const test::PreparedDataset prepared = test::PreparedDataset::open(data());
  const auto result = run_seqrec({"recommend", "--model", model().string(), "--input", data().string(), "--split",
                                  "valid", "--k", "20", "--threads", "1", "--output", (out / "recs.csv").string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const SessionBlock valid = prepared.read(kSplitValid);
  const auto lists = read_recommendations(out / "recs.csv");
  for (int64_t s = 0; s < valid.num_sessions(); ++s) {
    const std::string& key = prepared.session_key.at(valid.session_ids[s]);
    std::vector<std::string> history = prepared.items(valid, s);
    history.pop_back();  // the held-out target
    // The events the model sees: the last max_seq_len (train's default, 50).
    history.erase(history.begin(), history.end() - std::min<std::ptrdiff_t>(50, static_cast<std::ptrdiff_t>(history.size())));
    for (const std::string& recommended : lists.at(key)) {
      EXPECT_EQ(std::find(history.begin(), history.end(), recommended), history.end()) << key << ": " << recommended;
    }
  }
}

TEST_F(ModelCliTest, MistakesNameTheFile) {
  TempDir out;
  const auto missing = run_seqrec({"evaluate", "--model", (out / "nowhere.h5").string(), "--data", data().string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nowhere.h5"), std::string::npos) << missing.err;

  ASSERT_EQ(prepare(out / "other", "90").exit_code, 0);
  const auto other = run_seqrec({"evaluate", "--model", model().string(), "--data", (out / "other").string()});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find((out / "other").string()), std::string::npos) << other.err;
  EXPECT_NE(other.err.find(model().string()), std::string::npos) << other.err;

  const auto bad_input = out.write("bad.tsv", "user\titem\nu1\t3\n");
  const auto no_items = run_seqrec({"recommend", "--model", model().string(), "--input", bad_input.string(),
                                    "--output", (out / "recs.csv").string()});
  EXPECT_EQ(no_items.exit_code, 2);
  EXPECT_NE(no_items.err.find("bad.tsv"), std::string::npos) << no_items.err;
  EXPECT_FALSE(std::filesystem::exists(out / "recs.csv"));

  const auto existing = out.write("taken.csv", "x\n");
  const auto taken = run_seqrec({"recommend", "--model", model().string(), "--input", data().string(), "--output",
                                 existing.string()});
  EXPECT_EQ(taken.exit_code, 2);
  EXPECT_NE(taken.err.find("--overwrite"), std::string::npos) << taken.err;
}

// Training saved its final checkpoint beside model.h5; exporting that checkpoint's best
// weights must give the very file training wrote, and evaluating the checkpoint itself
// the metrics training reported.
TEST_F(ModelCliTest, ExportOfTheFinalCheckpointIsTheModelFileTrainingWrote) {
  TempDir out;
  const auto exported = run_seqrec({"export", "--model", (run() / "ckpt").string(), "--threads", "1", "--output",
                                    (out / "exported.h5").string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_TRUE(test::read_file(out / "exported.h5") == test::read_file(model())) << "exported differs from model.h5";

  const auto evaluated = run_seqrec({"evaluate", "--model", (run() / "ckpt").string(), "--data", data().string(),
                                     "--threads", "1", "--output", (out / "metrics.json").string()});
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  const auto metrics = nlohmann::json::parse(test::read_file(out / "metrics.json"));
  const auto trained = nlohmann::json::parse(test::read_file(run() / "result.json"));
  for (const auto& [name, value] : trained["test"].items()) {
    EXPECT_NEAR(metrics["metrics"][name].get<double>(), value.get<double>(), 1e-9) << name;
  }
}

TEST_F(ModelCliTest, ExportNamesWhatIsWrong) {
  TempDir out;
  const auto missing = run_seqrec({"export", "--model", (out / "nowhere").string(), "--output",
                                   (out / "m.h5").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nowhere"), std::string::npos) << missing.err;
  const auto empty = run_seqrec({"export", "--model", out.path().string(), "--output", (out / "m.h5").string()});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("checkpoint"), std::string::npos) << empty.err;
  EXPECT_FALSE(std::filesystem::exists(out / "m.h5"));
  const auto weights = run_seqrec({"export", "--model", (run() / "ckpt").string(), "--weights", "first", "--output",
                                   (out / "m.h5").string()});
  EXPECT_EQ(weights.exit_code, 2);
  EXPECT_NE(weights.err.find("--weights"), std::string::npos) << weights.err;
}

}  // namespace
}  // namespace seqrec
