// The `seqrec prepare` command line: help, configuration files, summary.
#include <gtest/gtest.h>

#include "seqrec/data/dataset.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

using test::TempDir;

TEST(PrepareCli, HelpListsOptionsWithDefaults) {
  const test::ProcessResult help = test::run_seqrec({"prepare", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  for (const char* option : {"--input", "--output", "--format arg (=auto)", "--item-col arg (=item_id)",
                             "--min-session-length arg (=2)", "--split arg (=leave-last-out)",
                             "--on-bad-row arg (=error)", "--shards arg (=1)", "--synthetic.users arg (=2000)"}) {
    EXPECT_NE(help.out.find(option), std::string::npos) << option;
  }
}

TEST(PrepareCli, PrintedConfigReadsBack) {
  TempDir dir;
  const test::ProcessResult printed = test::run_seqrec(
      {"prepare", "--synthetic", "--synthetic.users", "50", "--output", (dir / "out").string(), "--print-config"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  const auto config = dir.write("prepare.ini", printed.out);
  const test::ProcessResult prepared = test::run_seqrec({"prepare", "--config", config.string()});
  ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
  EXPECT_EQ(Dataset::open(dir / "out").num_sessions(kSplitTest), 50);
}

TEST(PrepareCli, SeveralInputsRepeatedOrCommaSeparated) {
  TempDir dir;
  const auto a = dir.write("a.txt", "1 1\n1 2\n");
  const auto b = dir.write("b.txt", "2 1\n2 3\n");
  const test::ProcessResult repeated = test::run_seqrec(
      {"prepare", "--input", a.string(), "--input", b.string(), "--output", (dir / "r").string()});
  const test::ProcessResult joined =
      test::run_seqrec({"prepare", "--input", a.string() + "," + b.string(), "--output", (dir / "j").string()});
  ASSERT_EQ(repeated.exit_code, 0) << repeated.err;
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_EQ(test::read_file(dir / "r" / "sessions.tsv"), "row\tsession\tuser\n0\t1\t1\n1\t2\t2\n");
  EXPECT_EQ(test::read_file(dir / "j" / "sessions.tsv"), test::read_file(dir / "r" / "sessions.tsv"));
}

TEST(PrepareCli, LogsASummary) {
  TempDir dir;
  const auto log = dir.write("pairs.txt", "1 1\n1 2\n1 3\n2 1\n3 3\n3 1\n");
  const test::ProcessResult result =
      test::run_seqrec({"prepare", "--input", log.string(), "--output", (dir / "out").string(), "--min-item-count", "2"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // Item 2 (once) goes, leaving user 1 with 1 3; user 2 (one event) goes.
  EXPECT_NE(result.err.find("read 6 events"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("filtered to 2 sessions, 4 events, 2 items"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("train 2 sessions / 4 events; valid 0 / 0; test 0 / 0"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace seqrec
