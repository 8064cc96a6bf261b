// `seqrec prepare` end to end: what the shards hold, read back and mapped through the
// vocabularies to raw ids, equals what a direct reading of the input gives.
//
// Small hand-written logs pin down every rule exactly; the public data sets check the
// same on real files, against a plain parse written here independently of the readers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <iterator>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "seqrec/data/dataset.h"
#include "support/prepared_dataset.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

using strings = std::vector<std::string>;
using SessionMap = std::map<std::string, strings>;
using test::PreparedDataset;
using test::TempDir;

PreparedDataset prepare(const TempDir& dir, std::vector<std::string> args) {
  const std::string output = (dir / "prepared").string();
  args.insert(args.begin(), "prepare");
  args.insert(args.end(), {"--output", output});
  const test::ProcessResult result = test::run_seqrec(args);
  if (result.exit_code != 0) {
    throw std::runtime_error("seqrec prepare exited with " + std::to_string(result.exit_code) + ": " + result.err);
  }
  return PreparedDataset::open(output);
}

std::string shared(const std::string& relative) { return test::shared_data(relative).string(); }

strings split_on(const std::string& line, char delimiter) {
  strings fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, delimiter)) fields.push_back(field);
  if (!line.empty() && line.back() == delimiter) fields.emplace_back();
  return fields;
}

struct DirectColumns {
  char delimiter;
  int key;        // session or user column
  int item;
  int time = -1;  // -1: file order
};

// Sessions straight from a delimited file with a header: grouped by key, events stably
// sorted by time, sessions shorter than min_length left out.
SessionMap direct_sessions(const std::vector<std::string>& paths, DirectColumns c, size_t min_length = 2) {
  std::map<std::string, std::vector<std::pair<double, std::string>>> events;
  for (const auto& path : paths) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      const strings f = split_on(line, c.delimiter);
      events[f.at(c.key)].emplace_back(c.time < 0 ? 0.0 : std::stod(f.at(c.time)), f.at(c.item));
    }
  }
  SessionMap sessions;
  for (auto& [key, list] : events) {
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    if (list.size() < min_length) continue;
    for (const auto& event : list) sessions[key].push_back(event.second);
  }
  return sessions;
}

// Drops rare items and short sessions until neither is left (the documented k-core).
SessionMap k_core(SessionMap sessions, int64_t min_item_count, size_t min_length) {
  while (true) {
    std::map<std::string, int64_t> counts;
    for (const auto& [key, items] : sessions) {
      for (const auto& item : items) ++counts[item];
    }
    SessionMap kept;
    for (const auto& [key, items] : sessions) {
      strings frequent;
      for (const auto& item : items) {
        if (counts[item] >= min_item_count) frequent.push_back(item);
      }
      if (frequent.size() >= min_length) kept[key] = frequent;
    }
    if (kept == sessions) return kept;
    sessions = std::move(kept);
  }
}

int64_t total_events(const SessionMap& sessions) {
  int64_t total = 0;
  for (const auto& [key, items] : sessions) total += static_cast<int64_t>(items.size());
  return total;
}

// Splits read back as (session key, items incl. target) in shard order.
std::vector<std::pair<std::string, strings>> split_rows(const PreparedDataset& prepared, const std::string& split) {
  const SessionBlock block = prepared.read(split);
  std::vector<std::pair<std::string, strings>> rows;
  for (int64_t s = 0; s < block.num_sessions(); ++s) {
    rows.emplace_back(prepared.session_key.at(block.session_ids[s]), prepared.items(block, s));
  }
  return rows;
}

float float_at(const Column& column, int64_t row) { return column.as<float>().at(row); }

TEST(PrepareRoundTrip, HandWrittenCsvWithSideTables) {
  TempDir dir;
  const auto log = dir.write("log.csv",
                             "session,user,item,time,color,price\n"
                             "s1,u1,i1,30,red,1.5\n"
                             "s2,u2,i2,10,blue,2\n"
                             "s1,u1,i3,10,red,\n"
                             "s1,u1,i2,20,green,3\n"
                             "s2,u2,i1,10,blue,4\n"
                             "s3,u1,i2,5,red,1\n"
                             "s1,u1,i1,30,blue,2\n");
  const auto items = dir.write("items.csv", "item,category,weight\ni1,A,1.0\ni2,B,2.0\n");
  const auto users = dir.write("users.tsv", "user_id\tgender\nu1\tF\nu2\tM\n");
  const PreparedDataset prepared = prepare(
      dir, {"--input", log.string(), "--session-col", "session", "--user-col", "user", "--item-col", "item",
            "--time-col", "time", "--categorical", "color", "--continuous", "price", "--item-side", items.string(),
            "--item-key", "item", "--item-categorical", "category", "--item-continuous", "weight",
            "--user-side", users.string(), "--user-categorical", "gender"});

  // s1 sorted by time, the two events at 30 in file order; s2 ties keep file order;
  // s3 has one event, below the default minimum length of 2.
  EXPECT_EQ(test::full_item_sequences(prepared), (SessionMap{{"s1", {"i3", "i2", "i1", "i1"}}, {"s2", {"i2", "i1"}}}));
  EXPECT_EQ(test::read_file(dir / "prepared" / "sessions.tsv"), "row\tsession\tuser\n0\ts1\tu1\n1\ts2\tu2\n");
  EXPECT_EQ(split_rows(prepared, kSplitTrain),
            (std::vector<std::pair<std::string, strings>>{{"s1", {"i3", "i2"}}, {"s2", {"i2", "i1"}}}));
  EXPECT_EQ(split_rows(prepared, kSplitValid), (std::vector<std::pair<std::string, strings>>{{"s1", {"i3", "i2", "i1"}}}));
  EXPECT_EQ(split_rows(prepared, kSplitTest), (std::vector<std::pair<std::string, strings>>{{"s1", {"i3", "i2", "i1", "i1"}}}));

  // Items by decreasing count: i1 (3), i2 (2), i3 (1).
  const Vocabulary& item_vocabulary = prepared.vocabularies.at("item_id");
  EXPECT_EQ(item_vocabulary.size(), 5);
  EXPECT_EQ(item_vocabulary.value(2), "i1");
  EXPECT_EQ(item_vocabulary.value(4), "i3");

  const Schema& schema = prepared.dataset.schema();
  const strings names = [&] {
    strings n;
    for (const auto& f : schema.features()) n.push_back(f.name);
    return n;
  }();
  EXPECT_EQ(names, (strings{"item_id", "timestamp", "color", "price", "category", "weight", "gender"}));
  EXPECT_TRUE(schema.at("timestamp").has_tag(kTagTime));
  EXPECT_EQ(schema.at("timestamp").dtype, DType::Float64);
  EXPECT_TRUE(schema.at("category").has_tag(kTagItemSide));
  EXPECT_TRUE(schema.at("weight").has_tag(kTagItemSide));
  EXPECT_TRUE(schema.at("gender").has_tag(kTagUserSide));
  EXPECT_EQ(schema.at("gender").scope, FeatureScope::Context);
  // price over the train events i3 (missing), i2 (3), i2 (2), i1 (4).
  const FeatureStats price = schema.at("price").stats;
  EXPECT_DOUBLE_EQ(price.mean, 3);
  EXPECT_DOUBLE_EQ(price.min, 2);
  EXPECT_DOUBLE_EQ(price.max, 4);
  EXPECT_NEAR(price.stddev, std::sqrt(2.0 / 3), 1e-12);
  EXPECT_DOUBLE_EQ(schema.at("weight").stats.mean, 5.0 / 3);  // i3 has no row; i2, i2, i1

  const SessionBlock test_block = prepared.read(kSplitTest);
  ASSERT_EQ(test_block.num_sessions(), 1);
  const Column& color = test_block.sequence[prepared.column_index("color")];
  const Column& category = test_block.sequence[prepared.column_index("category")];
  strings colors, categories;
  for (int64_t e = 0; e < 3; ++e) {
    colors.push_back(prepared.decode("color", color, e).at(0));
    categories.push_back(prepared.decode("category", category, e).at(0));
  }
  EXPECT_EQ(colors, (strings{"red", "green", "red"}));
  EXPECT_EQ(categories, (strings{"<unk>", "B", "A"}));
  EXPECT_EQ(prepared.decode("color", test_block.targets[prepared.column_index("color")], 0), strings{"blue"});
  const Column& prices = test_block.sequence[prepared.column_index("price")];
  EXPECT_EQ(float_at(prices, 0), 3.0f);  // missing: the train mean
  EXPECT_EQ(float_at(prices, 1), 3.0f);
  EXPECT_EQ(float_at(prices, 2), 1.5f);
  EXPECT_EQ(float_at(test_block.targets[prepared.column_index("price")], 0), 2.0f);
  const Column& weights = test_block.sequence[prepared.column_index("weight")];
  EXPECT_EQ(float_at(weights, 0), static_cast<float>(5.0 / 3));
  EXPECT_EQ(float_at(weights, 2), 1.0f);
  const Column& times = test_block.sequence[prepared.column_index("timestamp")];
  EXPECT_EQ(times.as<double>(), (std::vector<double>{10, 20, 30}));
  EXPECT_EQ(prepared.decode("gender", test_block.context[prepared.column_index("gender")], 0), strings{"F"});
}

TEST(PrepareRoundTrip, HandWrittenSasrecPairs) {
  TempDir dir;
  const auto log = dir.write("pairs.txt", "1 10\n2 20\n1 11\n1 12\n2 21\n3 30\n2 010\n");
  const PreparedDataset prepared = prepare(dir, {"--input", log.string()});
  EXPECT_EQ(test::full_item_sequences(prepared), (SessionMap{{"1", {"10", "11", "12"}}, {"2", {"20", "21", "10"}}}));
  EXPECT_EQ(prepared.session_user, (strings{"1", "2"}));
  EXPECT_EQ(prepared.dataset.schema().features().size(), 1u);  // no times, no side features
}

TEST(PrepareRoundTrip, HandWrittenUserSequencesWithAttributes) {
  TempDir dir;
  const auto log = dir.write("Beauty.txt", "7 3 1 2\n8 1 3\n9 2\n");
  const auto attributes = dir.write("attributes.json", R"({"1": [5, 6], "2": [6], "3": []})");
  const PreparedDataset prepared =
      prepare(dir, {"--input", log.string(), "--item-attributes", attributes.string(), "--min-session-length", "1"});
  EXPECT_EQ(test::full_item_sequences(prepared), (SessionMap{{"7", {"3", "1", "2"}}, {"8", {"1", "3"}}, {"9", {"2"}}}));
  const FeatureSpec& spec = prepared.dataset.schema().at("attributes");
  EXPECT_EQ(spec.max_values, 2);
  EXPECT_TRUE(spec.has_tag(kTagItemSide));
  const SessionBlock test_block = prepared.read(kSplitTest);  // user 7: 3 1 -> 2
  const Column& column = test_block.sequence[prepared.column_index("attributes")];
  EXPECT_EQ(prepared.decode("attributes", column, 0), strings{});
  EXPECT_EQ(prepared.decode("attributes", column, 1), (strings{"5", "6"}));
  EXPECT_EQ(prepared.decode("attributes", test_block.targets[prepared.column_index("attributes")], 0), strings{"6"});
}

TEST(PrepareRoundTrip, HandWrittenGapSessionsAndMilliseconds) {
  TempDir dir;
  const auto log = dir.write("clicks.tsv",
                             "user\titem\tts\n"
                             "a\tx\t0\n"
                             "a\ty\t60000\n"
                             "b\tx\t0\n"
                             "a\tz\t4000000\n"
                             "b\ty\t1000\n"
                             "a\tx\t4100000\n");
  const PreparedDataset prepared = prepare(dir, {"--input", log.string(), "--user-col", "user", "--item-col", "item",
                                                 "--time-col", "ts", "--time-unit", "ms", "--session-gap", "30m",
                                                 "--split", "none"});
  EXPECT_EQ(test::full_item_sequences(prepared),
            (SessionMap{{"a#0", {"x", "y"}}, {"a#1", {"z", "x"}}, {"b#0", {"x", "y"}}}));
  EXPECT_EQ(prepared.session_key, (strings{"a#0", "a#1", "b#0"}));
  EXPECT_EQ(prepared.session_user, (strings{"a", "a", "b"}));
  const SessionBlock train = prepared.read(kSplitTrain);
  EXPECT_EQ(train.sequence[prepared.column_index("timestamp")].as<double>(),
            (std::vector<double>{0, 60, 4000, 4100, 0, 1}));
}

TEST(PrepareRoundTrip, MovieLensWithItemAndUserTables) {
  TempDir dir;
  const std::string inter = shared("ml-100k/ml-100k.inter");
  const PreparedDataset prepared = prepare(
      dir, {"--input", inter, "--user-col", "user_id", "--time-col", "timestamp", "--item-side",
            shared("ml-100k/ml-100k.item"), "--item-categorical", "class,release_year", "--user-side",
            shared("ml-100k/ml-100k.user"), "--user-categorical", "gender,occupation", "--user-continuous", "age",
            "--shards", "3"});
  const SessionMap expected = direct_sessions({inter}, {'\t', 0, 1, 3});
  EXPECT_EQ(expected.size(), 943u);
  EXPECT_EQ(total_events(expected), 100000);
  EXPECT_EQ(test::full_item_sequences(prepared), expected);
  EXPECT_EQ(prepared.vocabularies.at("item_id").size(), 1682 + 2);
  EXPECT_EQ(prepared.dataset.num_sessions(kSplitTest), 943);
  EXPECT_EQ(prepared.dataset.num_events(kSplitTrain), 100000 - 2 * 943);
  EXPECT_EQ(prepared.dataset.shards(kSplitTrain).size(), 3u);

  // Side features of every test event, against the side files parsed here.
  std::map<std::string, strings> item_rows, user_rows;
  for (const auto& [file, rows] : {std::pair{"ml-100k/ml-100k.item", &item_rows}, {"ml-100k/ml-100k.user", &user_rows}}) {
    std::ifstream in(shared(file));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      const strings f = split_on(line, '\t');
      (*rows)[f[0]] = f;
    }
  }
  const SessionBlock block = prepared.read(kSplitTest);
  const int64_t item = prepared.column_index("item_id");
  const int64_t genre = prepared.column_index("class");
  const int64_t year = prepared.column_index("release_year");
  int64_t checked = 0;
  for (int64_t e = 0; e < block.num_events(); ++e) {
    const strings& row = item_rows.at(prepared.decode("item_id", block.sequence[item], e).at(0));
    std::stringstream genres(row[3]);
    strings expected_genres{std::istream_iterator<std::string>(genres), {}};
    ASSERT_EQ(prepared.decode("class", block.sequence[genre], e), expected_genres);
    ASSERT_EQ(prepared.decode("release_year", block.sequence[year], e), strings{row[2]});
    ++checked;
  }
  EXPECT_EQ(checked, 100000 - 943);
  const float mean_age = static_cast<float>(prepared.dataset.schema().at("age").stats.mean);
  EXPECT_GT(mean_age, 20);
  for (int64_t s = 0; s < block.num_sessions(); ++s) {
    const strings& row = user_rows.at(prepared.session_user.at(block.session_ids[s]));
    ASSERT_EQ(prepared.decode("gender", block.context[prepared.column_index("gender")], s), strings{row[2]});
    ASSERT_EQ(prepared.decode("occupation", block.context[prepared.column_index("occupation")], s), strings{row[3]});
    ASSERT_EQ(float_at(block.context[prepared.column_index("age")], s), std::stof(row[1]));
  }
}

TEST(PrepareRoundTrip, BeautyWithAttributes) {
  TempDir dir;
  const std::string log = shared("amazon-beauty/Beauty.txt");
  const std::string attributes = shared("amazon-beauty/Beauty_item2attributes.json");
  const PreparedDataset prepared = prepare(dir, {"--input", log, "--item-attributes", attributes, "--shards", "2"});
  SessionMap expected;
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    const strings f = split_on(line, ' ');
    expected[f[0]] = strings(f.begin() + 1, f.end());
  }
  EXPECT_EQ(expected.size(), 22363u);
  EXPECT_EQ(total_events(expected), 198502);
  EXPECT_EQ(test::full_item_sequences(prepared), expected);
  EXPECT_EQ(prepared.vocabularies.at("item_id").size(), 12101 + 2);
  EXPECT_EQ(prepared.dataset.num_sessions(kSplitTest), 22363);

  nlohmann::json json;
  std::ifstream(attributes) >> json;
  const SessionBlock block = prepared.read(kSplitTest);
  const int64_t item = prepared.column_index("item_id");
  const int64_t column = prepared.column_index("attributes");
  EXPECT_EQ(prepared.dataset.schema().at("attributes").max_values, 6);
  for (int64_t s = 0; s < block.num_sessions(); ++s) {
    const std::string target = prepared.decode("item_id", block.targets[item], s).at(0);
    strings expected_attributes;
    for (const auto& value : json.at(target)) expected_attributes.push_back(value.dump());
    ASSERT_EQ(prepared.decode("attributes", block.targets[column], s), expected_attributes) << "item " << target;
  }
}

TEST(PrepareRoundTrip, YoochooseWithKCoreFilter) {
  TempDir dir;
  const std::string log = shared("yoochoose-100k/yoochoose-clicks-100k_train_full.txt");
  const PreparedDataset prepared =
      prepare(dir, {"--input", log, "--session-col", "SessionId", "--item-col", "ItemId", "--time-col", "Time",
                    "--min-item-count", "5"});
  const SessionMap expected = k_core(direct_sessions({log}, {'\t', 0, 1, 2}, 1), 5, 2);
  EXPECT_LT(expected.size(), 17794u);  // the filter does remove sessions
  EXPECT_GT(expected.size(), 8000u);
  EXPECT_EQ(test::full_item_sequences(prepared), expected);
  EXPECT_EQ(static_cast<size_t>(prepared.vocabularies.at("item_id").size() - 2), [&] {
    std::set<std::string> items;
    for (const auto& [key, list] : expected) items.insert(list.begin(), list.end());
    return items.size();
  }());
}

TEST(PrepareRoundTrip, YoochooseTimeSplitOverTwoFiles) {
  TempDir dir;
  const std::string train = shared("yoochoose-100k/yoochoose-clicks-100k_train_full.txt");
  const std::string test = shared("yoochoose-100k/yoochoose-clicks-100k_test.txt");
  const PreparedDataset prepared =
      prepare(dir, {"--input", train, "--input", test, "--session-col", "SessionId", "--item-col", "ItemId",
                    "--time-col", "Time", "--split", "time", "--test-period", "1d", "--valid-period", "1d"});
  const SessionMap all = direct_sessions({train, test}, {'\t', 0, 1, 2}, 2);
  EXPECT_EQ(test::full_item_sequences(prepared), all);

  // Last event times, from the files directly.
  std::map<std::string, double> last;
  double latest = 0;
  for (const auto& path : {train, test}) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      const strings f = split_on(line, '\t');
      const double t = std::stod(f[2]);
      last[f[0]] = std::max(last[f[0]], t);
      latest = std::max(latest, t);
    }
  }
  std::set<std::string> expected_test, expected_valid, expected_train;
  for (const auto& [key, items] : all) {
    const double t = last.at(key);
    (t > latest - 86400 ? expected_test : t > latest - 2 * 86400 ? expected_valid : expected_train).insert(key);
  }
  auto keys_of = [&](const std::string& split) {
    std::set<std::string> keys;
    for (const auto& [key, items] : split_rows(prepared, split)) {
      keys.insert(key);
      if (split != kSplitTrain) {
        EXPECT_EQ(items, all.at(key)) << key;  // input + last event as target
      }
    }
    return keys;
  };
  EXPECT_GT(expected_test.size(), 1000u);
  EXPECT_EQ(keys_of(kSplitTest), expected_test);
  EXPECT_EQ(keys_of(kSplitValid), expected_valid);
  EXPECT_EQ(keys_of(kSplitTrain), expected_train);
}

TEST(PrepareRoundTrip, DigineticaSemicolons) {
  TempDir dir;
  const std::string log = shared("diginetica-sample/sample_train-item-views.csv");
  const PreparedDataset prepared = prepare(dir, {"--input", log, "--session-col", "session_id", "--time-col",
                                                 "timeframe", "--time-unit", "ms"});
  const SessionMap expected = direct_sessions({log}, {';', 0, 2, 3}, 2);
  EXPECT_GT(expected.size(), 1000u);
  EXPECT_EQ(test::full_item_sequences(prepared), expected);
  EXPECT_EQ(static_cast<size_t>(prepared.session_key.size()), expected.size());
}

}  // namespace
}  // namespace seqrec
