// `seqrec prepare` on bad input: exit code 2, one line on stderr saying where the
// problem is, and no output directory (nor its temporary sibling) left behind.
#include <gtest/gtest.h>

#include <algorithm>

#include "support/process.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

using strings = std::vector<std::string>;
using test::TempDir;

struct BadCase {
  std::string file_name;
  std::string content;
  strings options;              // besides --input and --output
  strings expected_in_message;  // each must occur in the error line
};

// Runs prepare on the case's file in a fresh directory and checks the failure.
void expect_rejected(const BadCase& c) {
  TempDir dir;
  const auto input = dir.write(c.file_name, c.content);
  const std::string listing = dir.listing();
  strings args{"prepare", "--input", input.string(), "--output", (dir / "out").string()};
  args.insert(args.end(), c.options.begin(), c.options.end());
  const test::ProcessResult result = test::run_seqrec(args);

  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_EQ(result.err.rfind("error: ", 0), 0u) << result.err;
  for (const auto& part : c.expected_in_message) {
    EXPECT_NE(result.err.find(part), std::string::npos) << "'" << part << "' not in: " << result.err;
  }
  EXPECT_EQ(dir.listing(), listing) << "output left behind";
}

TEST(PrepareBadInput, WrongColumnCount) {
  expect_rejected({"log.tsv", "user\titem\ttime\n1\ta\t1\n1\tb\t2\n2\tc\n",
                   {"--user-col", "user", "--item-col", "item", "--time-col", "time"},
                   {"log.tsv:4:", "expected 3 fields", "found 2"}});
}

TEST(PrepareBadInput, NonNumericTimestamp) {
  expect_rejected({"log.csv", "user,item,time\n1,a,1\n1,b,yesterday\n",
                   {"--user-col", "user", "--item-col", "item", "--time-col", "time"},
                   {"log.csv:3:", "timestamp 'yesterday'", "'time'"}});
}

TEST(PrepareBadInput, NonNumericContinuousValue) {
  expect_rejected({"log.csv", "user,item,price\n1,a,1\n1,b,cheap\n",
                   {"--user-col", "user", "--item-col", "item", "--continuous", "price"},
                   {"log.csv:3:", "'cheap'", "'price'"}});
}

TEST(PrepareBadInput, MissingColumn) {
  expect_rejected({"log.tsv", "user\titem\n1\ta\n",
                   {"--user-col", "user", "--item-col", "item", "--time-col", "timestamp"},
                   {"log.tsv:1:", "no column 'timestamp'", "--time-col"}});
  expect_rejected({"log.tsv", "user\titem\n1\ta\n", {"--user-col", "user"}, {"log.tsv:1:", "'item_id'"}});
}

TEST(PrepareBadInput, EmptyFile) {
  expect_rejected({"empty.tsv", "", {}, {"empty.tsv", "empty"}});
  expect_rejected({"empty.txt", "", {"--format", "sasrec"}, {"empty.txt", "no events"}});
  expect_rejected({"header-only.csv", "user,item_id\n", {"--user-col", "user"}, {"header-only.csv", "no events"}});
}

TEST(PrepareBadInput, MissingInputFile) {
  TempDir dir;
  const test::ProcessResult result = test::run_seqrec(
      {"prepare", "--input", (dir / "nowhere.tsv").string(), "--output", (dir / "out").string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_NE(result.err.find("cannot open input file '" + (dir / "nowhere.tsv").string() + "'"), std::string::npos)
      << result.err;
  EXPECT_EQ(dir.listing(), "");
}

TEST(PrepareBadInput, UnknownFormat) {
  expect_rejected({"log.txt", "1 2\n", {"--format", "parquet"}, {"--format", "parquet"}});
  // Not numbers, so a header, but without a delimiter: no format fits.
  expect_rejected({"log.txt", "PK\x03\x04 binary\n", {}, {"log.txt:1:", "delimiter"}});
}

TEST(PrepareBadInput, IdOverflowInSasrecPairs) {
  expect_rejected({"pairs.txt", "1 1\n1 2\n2 99999999999999999999\n", {}, {"pairs.txt:3:", "item id '99999999999999999999'"}});
  expect_rejected({"pairs.txt", "1 1\n-2 2\n", {}, {"pairs.txt:2:", "user id '-2'"}});
}

TEST(PrepareBadInput, IdOverflowInUserSequences) {
  expect_rejected({"seq.txt", "1 1 2 3\n2 3 18446744073709551616\n", {}, {"seq.txt:2:", "item id '18446744073709551616'"}});
  expect_rejected({"seq.txt", "1 1 2 3\n2 3 x4 5\n", {"--format", "user-sequence"}, {"seq.txt:2:", "item id 'x4'"}});
}

TEST(PrepareBadInput, OptionsThatDoNotFitTheData) {
  expect_rejected({"log.tsv", "user\titem_id\n1\ta\n1\tb\n", {"--user-col", "user", "--split", "time", "--test-period", "1d"},
                   {"--split time", "--time-col"}});
  expect_rejected({"log.tsv", "user\titem_id\n1\ta\n", {"--user-col", "user", "--session-gap", "30m"},
                   {"--session-gap", "--time-col"}});
  expect_rejected({"log.tsv", "user\titem_id\n1\ta\n", {"--user-col", "user", "--session-gap", "soon"},
                   {"--session-gap", "'soon'"}});
  expect_rejected({"log.tsv", "item_id\tprice\na\t1\n", {}, {"--session-col", "--user-col"}});
  expect_rejected({"log.tsv", "user\titem_id\n1\ta\n1\tb\n", {"--user-col", "user", "--on-bad-row", "maybe"},
                   {"--on-bad-row", "'maybe'"}});
}

TEST(PrepareBadInput, BadSideTables) {
  TempDir dir;
  const auto log = dir.write("log.tsv", "user_id\titem_id\n1\ta\n1\tb\n");
  const auto items = dir.write("items.tsv", "item_id\tgenre\na\tx\nb\ty\na\tz\n");
  const auto attributes = dir.write("attributes.json", "{\"a\": [1, 2}");
  for (const auto& [options, expected] :
       std::vector<std::pair<strings, strings>>{
           {{"--item-side", items.string(), "--item-categorical", "genre"}, {"items.tsv:4:", "key 'a'", "line 2"}},
           {{"--item-side", items.string(), "--item-categorical", "year"}, {"items.tsv:1:", "no column 'year'"}},
           {{"--item-attributes", attributes.string()}, {"attributes.json", "JSON"}},
           {{"--item-attributes", (dir / "missing.json").string()}, {"missing.json"}}}) {
    strings args{"prepare", "--input", log.string(), "--user-col", "user_id", "--output", (dir / "out").string()};
    args.insert(args.end(), options.begin(), options.end());
    const test::ProcessResult result = test::run_seqrec(args);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    for (const auto& part : expected) EXPECT_NE(result.err.find(part), std::string::npos) << result.err;
    EXPECT_EQ(dir.listing(), "attributes.json items.tsv log.tsv");
  }
}

TEST(PrepareBadInput, ExistingOutputIsKeptWithoutOverwrite) {
  TempDir dir;
  const auto log = dir.write("pairs.txt", "1 1\n1 2\n1 3\n");
  const auto marker = dir.write("out/keep.txt", "mine");
  const strings args{"prepare", "--input", log.string(), "--output", (dir / "out").string()};
  const test::ProcessResult refused = test::run_seqrec(args);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("already exists"), std::string::npos) << refused.err;
  EXPECT_EQ(test::read_file(marker), "mine");

  strings overwrite = args;
  overwrite.push_back("--overwrite");
  const test::ProcessResult replaced = test::run_seqrec(overwrite);
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "manifest.json"));
  EXPECT_EQ(dir.listing(), "out pairs.txt");
}

TEST(PrepareBadInput, SkippedRowsAreCountedAndReported) {
  TempDir dir;
  const auto log = dir.write("log.csv", "user,item,time\n1,a,1\n1,b\n1,c,x\n1,d,4\n");
  const test::ProcessResult result =
      test::run_seqrec({"prepare", "--input", log.string(), "--output", (dir / "out").string(), "--user-col", "user",
                        "--item-col", "item", "--time-col", "time", "--on-bad-row", "skip"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("skipped 2 bad rows"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("log.csv:3:"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace seqrec
