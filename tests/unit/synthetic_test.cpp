// The built-in synthetic log: deterministic, structured, and prepared like any other.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "seqrec/core/error.h"
#include "seqrec/data/synthetic.h"
#include "support/prepared_dataset.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

using strings = std::vector<std::string>;
using test::TempDir;

TEST(Synthetic, SameSeedSameLogOtherSeedOtherLog) {
  SyntheticOptions options;
  options.seed = 3;
  const SyntheticLog a = generate_synthetic(options);
  const SyntheticLog b = generate_synthetic(options);
  EXPECT_EQ(a.events.user, b.events.user);
  EXPECT_EQ(a.events.item, b.events.item);
  EXPECT_EQ(a.events.time, b.events.time);
  EXPECT_EQ(a.items.columns[0].tokens, b.items.columns[0].tokens);
  EXPECT_EQ(a.items.columns[1].numbers, b.items.columns[1].numbers);
  options.seed = 4;
  const SyntheticLog c = generate_synthetic(options);
  EXPECT_NE(a.events.item, c.events.item);
  EXPECT_NE(a.items.columns[0].tokens, c.items.columns[0].tokens);
}

TEST(Synthetic, HasTheRequestedShape) {
  SyntheticOptions options;
  const SyntheticLog log = generate_synthetic(options);
  std::map<std::string, int64_t> length;
  for (const auto& user : log.events.user) ++length[user];
  EXPECT_EQ(static_cast<int64_t>(length.size()), options.users);
  for (const auto& [user, n] : length) ASSERT_GE(n, 3) << user;
  const double mean = static_cast<double>(log.events.size()) / options.users;
  EXPECT_NEAR(mean, options.mean_length, 1.5);
  EXPECT_EQ(log.items.size(), options.items);
  ASSERT_EQ(log.items.columns.size(), 2u);
  EXPECT_EQ(log.items.columns[0].name, "category");
  EXPECT_EQ(log.items.columns[1].name, "price");
  for (double price : log.items.columns[1].numbers) ASSERT_GT(price, 0);
  // Times increase within a user.
  for (int64_t e = 1; e < log.events.size(); ++e) {
    if (log.events.user[e] == log.events.user[e - 1]) {
      ASSERT_GT(log.events.time[e], log.events.time[e - 1]);
    }
  }
}

TEST(Synthetic, NextItemsAreLearnableAndPopularityIsSkewed) {
  const SyntheticLog log = generate_synthetic({});
  std::map<std::string, std::map<std::string, int64_t>> next;
  std::map<std::string, int64_t> popularity;
  int64_t transitions = 0;
  for (int64_t e = 0; e < log.events.size(); ++e) {
    ++popularity[log.events.item[e]];
    if (e > 0 && log.events.user[e] == log.events.user[e - 1]) {
      ++next[log.events.item[e - 1]][log.events.item[e]];
      ++transitions;
    }
  }
  // The three most frequent successors of each item explain most transitions: far more
  // than popularity alone would (about a quarter for a Zipf law over 500 items).
  int64_t explained = 0;
  for (const auto& [item, counts] : next) {
    std::vector<int64_t> c;
    for (const auto& [to, n] : counts) c.push_back(n);
    std::sort(c.rbegin(), c.rend());
    for (size_t i = 0; i < std::min<size_t>(3, c.size()); ++i) explained += c[i];
  }
  EXPECT_GT(static_cast<double>(explained) / transitions, 0.7);
  std::vector<int64_t> counts;
  for (const auto& [item, n] : popularity) counts.push_back(n);
  std::sort(counts.rbegin(), counts.rend());
  EXPECT_GT(counts.front(), 5 * counts[counts.size() / 2]);
}

TEST(Synthetic, RejectsOutOfRangeOptions) {
  SyntheticOptions options;
  options.users = 0;
  EXPECT_THROW(generate_synthetic(options), UserError);
  options = {};
  options.mean_length = 2;
  EXPECT_THROW(generate_synthetic(options), UserError);
  options = {};
  options.items = 3;
  EXPECT_THROW(generate_synthetic(options), UserError);
}

test::ProcessResult prepare_synthetic(const std::filesystem::path& output, const std::string& seed) {
  return test::run_seqrec({"prepare", "--synthetic", "--synthetic.seed", seed, "--output", output.string()});
}

TEST(Synthetic, PreparesDeterministically) {
  TempDir dir;
  for (const auto& [name, seed] : {std::pair{"a", "7"}, {"b", "7"}, {"c", "8"}}) {
    const test::ProcessResult result = prepare_synthetic(dir / name, seed);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  // manifest.json holds every shard's CRC-32: equal manifests mean byte-identical shards.
  for (const char* file : {"sessions.tsv", "schema.json", "manifest.json", "vocab/item_id.tsv", "vocab/category.tsv"}) {
    EXPECT_EQ(test::read_file(dir / "a" / file), test::read_file(dir / "b" / file)) << file;
  }
  EXPECT_NE(test::read_file(dir / "a" / "vocab/item_id.tsv"), test::read_file(dir / "c" / "vocab/item_id.tsv"));

  const test::PreparedDataset a = test::PreparedDataset::open(dir / "a");
  const test::PreparedDataset c = test::PreparedDataset::open(dir / "c");
  EXPECT_NE(test::full_item_sequences(a), test::full_item_sequences(c));
  const Schema& schema = a.dataset.schema();
  EXPECT_EQ(schema.at("category").kind, FeatureKind::Categorical);
  EXPECT_TRUE(schema.at("category").has_tag(kTagItemSide));
  EXPECT_EQ(schema.at("price").kind, FeatureKind::Continuous);
  EXPECT_TRUE(schema.at("price").has_tag(kTagItemSide));
  EXPECT_GT(schema.at("price").stats.mean, 0);
  EXPECT_TRUE(schema.at("timestamp").has_tag(kTagTime));
  EXPECT_EQ(a.dataset.num_sessions(kSplitTest), 2000);
}

TEST(Synthetic, PreparedSessionsAreTheGeneratedOnes) {
  TempDir dir;
  ASSERT_EQ(prepare_synthetic(dir / "out", "5").exit_code, 0);
  SyntheticOptions options;
  options.seed = 5;
  const SyntheticLog log = generate_synthetic(options);
  std::map<std::string, strings> expected;
  for (int64_t e = 0; e < log.events.size(); ++e) expected[log.events.user[e]].push_back(log.events.item[e]);
  EXPECT_EQ(test::full_item_sequences(test::PreparedDataset::open(dir / "out")), expected);
}

}  // namespace
}  // namespace seqrec
