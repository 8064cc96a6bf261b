// Item-side and user-side feature tables.
#include <gtest/gtest.h>

#include "seqrec/core/error.h"
#include "seqrec/data/side_table.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

using strings = std::vector<std::string>;
using test::TempDir;

TEST(SideTable, ReadsSelectedColumnsByKey) {
  TempDir dir;
  SideTableOptions options;
  options.path = dir.write("items.item",
                           "item_id:token\ttitle:token_seq\trelease_year:token\tclass:token_seq\n"
                           "1\tToy Story\t1995\tAnimation Comedy\n"
                           "2\tGoldenEye\t1995\tAction\n");
  options.key_column = "item_id";
  options.columns.categorical = {"class"};
  options.columns.continuous = {"release_year"};
  const SideTable table = read_side_table(options, BadRowPolicy::Error);
  EXPECT_EQ(table.size(), 2);
  EXPECT_EQ(table.row_of("2"), 1);
  EXPECT_EQ(table.row_of("3"), -1);
  ASSERT_EQ(table.columns.size(), 2u);
  EXPECT_EQ(table.columns[0].name, "class");
  EXPECT_EQ(table.columns[0].kind, RawKind::MultiValued);
  EXPECT_EQ(table.columns[0].lists, (std::vector<strings>{{"Animation", "Comedy"}, {"Action"}}));
  EXPECT_EQ(table.columns[1].numbers, (std::vector<double>{1995, 1995}));
}

TEST(SideTable, WithoutColumnOptionsTakesEveryColumnByItsType) {
  TempDir dir;
  SideTableOptions options;
  options.path = dir.write("users.user", "age:float\tuser_id:token\tgender\tlangs:token_seq\n30\tu1\tF\ten de\n");
  options.key_column = "user_id";
  const SideTable table = read_side_table(options, BadRowPolicy::Error);
  ASSERT_EQ(table.columns.size(), 3u);
  EXPECT_EQ(table.columns[0].name, "gender");
  EXPECT_EQ(table.columns[0].kind, RawKind::Categorical);
  EXPECT_EQ(table.columns[1].name, "age");
  EXPECT_EQ(table.columns[1].kind, RawKind::Continuous);
  EXPECT_EQ(table.columns[2].name, "langs");
  EXPECT_EQ(table.columns[2].lists, (std::vector<strings>{{"en", "de"}}));
}

TEST(SideTable, DuplicateKeysNameBothLines) {
  TempDir dir;
  SideTableOptions options;
  options.path = dir.write("users.csv", "user_id,gender\n1,F\n2,M\n1,M\n");
  options.key_column = "user_id";
  options.columns.categorical = {"gender"};
  try {
    read_side_table(options, BadRowPolicy::Error);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), options.path.string() + ":4: key '1' already listed on line 2");
  }
}

TEST(SideTable, MissingColumnIsNamed) {
  TempDir dir;
  SideTableOptions options;
  options.path = dir.write("users.csv", "user_id,gender\n1,F\n");
  options.key_column = "user_id";
  options.columns.categorical = {"age"};
  try {
    read_side_table(options, BadRowPolicy::Error);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("no column 'age'"), std::string::npos) << e.what();
  }
}

TEST(AttributeMap, ReadsListsOfNumbersOrStrings) {
  TempDir dir;
  const auto path = dir.write("attributes.json", R"({"4": [1, 2, 3], "83": ["red"], "7": []})");
  const SideTable table = read_attribute_map(path, "attributes");
  ASSERT_EQ(table.columns.size(), 1u);
  EXPECT_EQ(table.columns[0].name, "attributes");
  EXPECT_EQ(table.columns[0].lists.at(table.row_of("4")), (strings{"1", "2", "3"}));
  EXPECT_EQ(table.columns[0].lists.at(table.row_of("83")), (strings{"red"}));
  EXPECT_TRUE(table.columns[0].lists.at(table.row_of("7")).empty());
}

TEST(AttributeMap, RejectsMalformedJson) {
  TempDir dir;
  EXPECT_THROW(read_attribute_map(dir.write("a.json", R"({"4": [1, 2)"), "a"), UserError);
  EXPECT_THROW(read_attribute_map(dir.write("b.json", R"([1, 2])"), "a"), UserError);
  EXPECT_THROW(read_attribute_map(dir.write("c.json", R"({"4": 1})"), "a"), UserError);
  EXPECT_THROW(read_attribute_map(dir.write("d.json", R"({"4": [1.5]})"), "a"), UserError);
}

}  // namespace
}  // namespace seqrec
