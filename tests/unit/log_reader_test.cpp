// Reading interaction logs: formats, headers, detection, bad rows.
#include <gtest/gtest.h>

#include <cmath>

#include "seqrec/core/error.h"
#include "seqrec/data/delimited_text.h"
#include "seqrec/data/log_reader.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

using strings = std::vector<std::string>;
using test::TempDir;

TEST(SplitFields, HandlesQuotesAndTrimming) {
  strings fields;
  ASSERT_TRUE(split_fields(R"(1, "Toy Story, The" ,"say ""hi""",)", ',', fields));
  EXPECT_EQ(fields, (strings{"1", "Toy Story, The", "say \"hi\"", ""}));
  EXPECT_FALSE(split_fields(R"(1,"open)", ',', fields));
  ASSERT_TRUE(split_fields("a\tb c\t", '\t', fields));
  EXPECT_EQ(fields, (strings{"a", "b c", ""}));
}

TEST(SplitList, DropsEmptyParts) {
  EXPECT_EQ(split_list(" a, b,,c ,"), (strings{"a", "b", "c"}));
  EXPECT_TRUE(split_list("").empty());
}

TEST(DetectDelimiter, PicksTheMostFrequent) {
  EXPECT_EQ(detect_delimiter("a\tb\tc"), '\t');
  EXPECT_EQ(detect_delimiter("a,b,c"), ',');
  EXPECT_EQ(detect_delimiter("session_id;user_id;item_id"), ';');
  EXPECT_EQ(detect_delimiter("a;b,c;d"), ';');
  EXPECT_EQ(detect_delimiter("single"), 0);
}

TEST(LogReader, RecBoleHeaderNamesMatchWithoutTheirTypes) {
  TempDir dir;
  const auto path = dir.write("log.inter",
                              "user_id:token\titem_id:token\trating:float\ttimestamp:float\ttags:token_seq\n"
                              "u1\ti1\t4\t100\tx y\n"
                              "u2\ti2\t\t50\t\n");
  LogReadOptions options;
  options.user_column = "user_id";
  options.item_column = "item_id:token";  // the full name works as well
  options.time_column = "timestamp";
  options.extra_columns.continuous = {"rating"};
  options.extra_columns.categorical = {"tags"};  // typed token_seq: multi-valued
  const RawEvents events = read_event_log({path}, options);
  EXPECT_EQ(events.user, (strings{"u1", "u2"}));
  EXPECT_EQ(events.item, (strings{"i1", "i2"}));
  EXPECT_EQ(events.time, (std::vector<double>{100, 50}));
  EXPECT_TRUE(events.session.empty());
  ASSERT_EQ(events.columns.size(), 2u);
  EXPECT_EQ(events.columns[0].name, "tags");
  EXPECT_EQ(events.columns[0].kind, RawKind::MultiValued);
  EXPECT_EQ(events.columns[0].lists, (std::vector<strings>{{"x", "y"}, {}}));
  EXPECT_EQ(events.columns[1].name, "rating");
  EXPECT_EQ(events.columns[1].numbers[0], 4);
  EXPECT_TRUE(std::isnan(events.columns[1].numbers[1]));  // empty: missing
}

TEST(LogReader, ReadsCsvWithCrlfQuotesAndBlankLines) {
  TempDir dir;
  const auto path = dir.write("log.csv", "session,item,time_ms\r\n\"s,1\",a,1500\r\n\r\ns2,b,2000\r\n");
  LogReadOptions options;
  options.session_column = "session";
  options.item_column = "item";
  options.time_column = "time_ms";
  options.time_unit_seconds = 0.001;
  const RawEvents events = read_event_log({path}, options);
  EXPECT_EQ(events.session, (strings{"s,1", "s2"}));
  EXPECT_EQ(events.item, (strings{"a", "b"}));
  EXPECT_EQ(events.time, (std::vector<double>{1.5, 2.0}));
}

TEST(LogReader, SeveralFilesAreReadInOrder) {
  TempDir dir;
  const auto first = dir.write("a.tsv", "SessionId\tItemId\n1\tx\n");
  const auto second = dir.write("b.tsv", "ItemId\tSessionId\n" "y\t2\n");  // other column order
  LogReadOptions options;
  options.session_column = "SessionId";
  options.item_column = "ItemId";
  const RawEvents events = read_event_log({first, second}, options);
  EXPECT_EQ(events.session, (strings{"1", "2"}));
  EXPECT_EQ(events.item, (strings{"x", "y"}));
}

TEST(LogReader, DetectsFormatsByContent) {
  TempDir dir;
  EXPECT_EQ(detect_log_format(dir.write("a", "user_id\titem_id\n1\t2\n")), LogFormat::Delimited);
  EXPECT_EQ(detect_log_format(dir.write("b", "1 2\n1 3\n\n2 2\n")), LogFormat::SasrecPairs);
  EXPECT_EQ(detect_log_format(dir.write("c", "1 2\n2 3 4 5\n")), LogFormat::UserSequence);
  EXPECT_EQ(detect_log_format(dir.write("d", "1\t2\n")), LogFormat::SasrecPairs);
  // Numbers only: no header, whatever the rest (the reader then rejects "3.5" as an id).
  EXPECT_EQ(detect_log_format(dir.write("f", "1\t2\t3.5\n")), LogFormat::UserSequence);
  EXPECT_THROW(detect_log_format(dir.write("e", "\n\n")), UserError);
}

TEST(LogReader, ReadsSasrecPairsWithCanonicalIds) {
  TempDir dir;
  const auto path = dir.write("pairs.txt", "1 5\n1 007\n2 5\n");
  const RawEvents events = read_event_log({path}, {});
  EXPECT_EQ(events.user, (strings{"1", "1", "2"}));
  EXPECT_EQ(events.item, (strings{"5", "7", "5"}));
  EXPECT_FALSE(events.has_time());
  EXPECT_FALSE(events.has_sessions());
}

TEST(LogReader, ReadsUserSequences) {
  TempDir dir;
  const auto path = dir.write("Beauty.txt", "1 1 2 3\n2 4 1\n3\n");
  LogReadOptions options;
  options.format = LogFormat::UserSequence;
  const RawEvents events = read_event_log({path}, options);
  EXPECT_EQ(events.user, (strings{"1", "1", "1", "2", "2"}));
  EXPECT_EQ(events.item, (strings{"1", "2", "3", "4", "1"}));
}

TEST(LogReader, BadRowsStopWithTheirLocationOrAreSkipped) {
  TempDir dir;
  const auto path = dir.write("log.tsv", "u\ti\tt\tprice\n1\ta\t1\t2.5\n1\tb\n1\tc\tsoon\t1\n2\td\t4\tcheap\n2\te\t5\t1\n");
  LogReadOptions options;
  options.user_column = "u";
  options.item_column = "i";
  options.time_column = "t";
  options.extra_columns.continuous = {"price"};
  try {
    read_event_log({path}, options);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string() + ":3: expected 4 fields"), std::string::npos) << e.what();
  }
  options.bad_rows = BadRowPolicy::Skip;
  const RawEvents events = read_event_log({path}, options);
  EXPECT_EQ(events.skipped_rows, 3);
  EXPECT_EQ(events.item, (strings{"a", "e"}));
  EXPECT_EQ(events.time, (std::vector<double>{1, 5}));
  EXPECT_EQ(events.columns.at(0).numbers, (std::vector<double>{2.5, 1}));
}

TEST(LogReader, RejectsIdsThatAreNotNonNegativeInt64) {
  TempDir dir;
  for (const char* bad : {"1 99999999999999999999\n", "1 -3\n", "x 2\n", "1 2.0\n"}) {
    const auto path = dir.write("pairs.txt", std::string("1 1\n") + bad);
    LogReadOptions options;
    options.format = LogFormat::SasrecPairs;
    EXPECT_THROW(read_event_log({path}, options), UserError) << bad;
  }
}

TEST(LogReader, ColumnOptionsNeedAHeader) {
  TempDir dir;
  const auto path = dir.write("pairs.txt", "1 2\n");
  LogReadOptions options;
  options.time_column = "t";
  EXPECT_THROW(read_event_log({path}, options), UserError);
}

TEST(LogReader, ParsesFormatNames) {
  EXPECT_EQ(parse_log_format("user-sequence"), LogFormat::UserSequence);
  EXPECT_EQ(parse_log_format("sasrec"), LogFormat::SasrecPairs);
  EXPECT_THROW(parse_log_format("parquet"), UserError);
}

}  // namespace
}  // namespace seqrec
