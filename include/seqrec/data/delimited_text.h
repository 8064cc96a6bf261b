// Reading delimited text: lines, fields, headers and the columns a user selects.
//
// Shared by the event log reader and the side table reader. Header names may carry a
// RecBole type ("item_id:token", "class:token_seq"); a column is found by its name with
// or without the type, and `:token_seq` columns hold space-separated token lists.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "seqrec/data/raw_events.h"

namespace seqrec {

// Lines of a text file with their 1-based numbers; strips the '\r' of CRLF files.
class LineReader {
 public:
  explicit LineReader(const std::filesystem::path& path);  // UserError if unreadable
  bool next(std::string& line);
  int64_t line_number() const { return line_number_; }
  // "file:line" of the last line read, for messages.
  std::string where() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  int64_t line_number_ = 0;
};

bool is_blank(std::string_view line);

// The first of tab, comma, semicolon that occurs most often in a header line; 0 if none.
char detect_delimiter(std::string_view header_line);

// Splits a line into trimmed fields. A field may be double-quoted to hold delimiters
// ("a, b"; "" is a literal quote). Returns false on an unterminated quote.
bool split_fields(std::string_view line, char delimiter, std::vector<std::string>& fields);

std::vector<std::string> split_whitespace(std::string_view text);

// "a, b,c" -> {"a", "b", "c"}; empty parts are dropped.
std::vector<std::string> split_list(std::string_view text, char separator = ',');

struct Header {
  char delimiter = 0;
  std::vector<std::string> names;  // without the RecBole type
  std::vector<std::string> types;  // "token_seq", "float"...; "" when untyped

  // Column index of `name` (given with or without its type); -1 when absent.
  int64_t find(const std::string& name) const;
  std::string joined_names() const;  // "a, b, c", for messages
};

// Reads the header line of a delimited file; UserError naming the file when the file is
// empty or the line has no delimiter.
Header read_header(LineReader& lines);

// The extra columns a user asks for, by kind, as header names.
struct ColumnSelection {
  std::vector<std::string> categorical;
  std::vector<std::string> continuous;
  std::vector<std::string> multi_valued;  // space-separated tokens

  bool empty() const { return categorical.empty() && continuous.empty() && multi_valued.empty(); }
};

struct SelectedColumn {
  int64_t index = 0;  // field index in a row
  RawKind kind = RawKind::Categorical;
  std::string name;   // header name without type
};

// Resolves a selection against a header: UserError naming the file and the missing
// column. Categorical columns typed `:token_seq` become multi-valued.
std::vector<SelectedColumn> select_columns(const Header& header, const ColumnSelection& selection,
                                           const std::string& file);

// Index of a required column; UserError naming file, option and column when absent.
int64_t require_column(const Header& header, const std::string& name, const std::string& option,
                       const std::string& file);

// Empty RawColumns named and typed as the selection, to append rows to.
std::vector<RawColumn> make_columns(const std::vector<SelectedColumn>& selected);

// Parses the selected fields of one row into `values` (one entry per selected column,
// same order). Returns "" on success, else what is wrong with the row. An empty
// continuous field is a missing value (NaN).
std::string parse_selected(const std::vector<SelectedColumn>& selected,
                           const std::vector<std::string>& fields, std::vector<RawColumn>& values);

}  // namespace seqrec
