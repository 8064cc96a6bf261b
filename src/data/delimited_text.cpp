#include "seqrec/data/delimited_text.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "seqrec/core/error.h"
#include "seqrec/core/parse.h"

namespace seqrec {

LineReader::LineReader(const std::filesystem::path& path) : path_(path), in_(path) {
  if (!in_ || std::filesystem::is_directory(path)) fail("cannot open input file '", path.string(), "'");
}

bool LineReader::next(std::string& line) {
  if (!std::getline(in_, line)) {
    if (in_.bad()) fail(path_.string(), ": read error after line ", line_number_);
    return false;
  }
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

std::string LineReader::where() const { return str_cat(path_.string(), ":", line_number_); }

bool is_blank(std::string_view line) { return trim(line).empty(); }

char detect_delimiter(std::string_view header_line) {
  char best = 0;
  size_t best_count = 0;
  for (char candidate : {'\t', ',', ';'}) {
    const size_t count = std::count(header_line.begin(), header_line.end(), candidate);
    if (count > best_count) {
      best = candidate;
      best_count = count;
    }
  }
  return best;
}

bool split_fields(std::string_view line, char delimiter, std::vector<std::string>& fields) {
  fields.clear();
  size_t pos = 0;
  while (true) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    std::string field;
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      while (true) {
        if (pos >= line.size()) return false;
        if (line[pos] == '"') {
          if (pos + 1 < line.size() && line[pos + 1] == '"') {
            field += '"';
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        field += line[pos++];
      }
      // Text after the closing quote, up to the delimiter, is kept as written.
      const size_t end = std::min(line.find(delimiter, pos), line.size());
      field += line.substr(pos, end - pos);
      pos = end;
    } else {
      const size_t end = std::min(line.find(delimiter, pos), line.size());
      field = line.substr(pos, end - pos);
      pos = end;
    }
    fields.emplace_back(trim(field));
    if (pos >= line.size()) return true;
    ++pos;  // the delimiter
  }
}

std::vector<std::string> split_whitespace(std::string_view text) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    size_t end = pos;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    if (end > pos) parts.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
  return parts;
}

std::vector<std::string> split_list(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find(separator, pos), text.size());
    std::string_view part = trim(text.substr(pos, end - pos));
    if (!part.empty()) parts.emplace_back(part);
    pos = end + 1;
  }
  return parts;
}

int64_t Header::find(const std::string& name) const {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name || (!types[i].empty() && names[i] + ":" + types[i] == name)) {
      return static_cast<int64_t>(i);
    }
  }
  return -1;
}

std::string Header::joined_names() const {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

Header read_header(LineReader& lines) {
  std::string line;
  do {
    if (!lines.next(line)) fail(lines.path().string(), ": file is empty (expected a header line)");
  } while (is_blank(line));
  Header header;
  header.delimiter = detect_delimiter(line);
  if (header.delimiter == 0) {
    fail(lines.where(), ": cannot tell the delimiter of header '", line,
         "' (expected tab, ',' or ';' between column names)");
  }
  std::vector<std::string> fields;
  if (!split_fields(line, header.delimiter, fields)) fail(lines.where(), ": unterminated quote in header");
  for (const auto& field : fields) {
    const size_t colon = field.rfind(':');
    const std::string type = colon == std::string::npos ? "" : field.substr(colon + 1);
    const bool typed = type == "token" || type == "token_seq" || type == "float" || type == "float_seq";
    header.names.push_back(typed ? field.substr(0, colon) : field);
    header.types.push_back(typed ? type : "");
    if (header.names.back().empty()) fail(lines.where(), ": empty column name in header");
  }
  return header;
}

int64_t require_column(const Header& header, const std::string& name, const std::string& option,
                       const std::string& file) {
  const int64_t index = header.find(name);
  if (index < 0) {
    fail(file, ":1: no column '", name, "' (", option, ") in header; columns: ", header.joined_names());
  }
  return index;
}

std::vector<SelectedColumn> select_columns(const Header& header, const ColumnSelection& selection,
                                           const std::string& file) {
  std::vector<SelectedColumn> selected;
  auto add = [&](const std::vector<std::string>& names, RawKind kind) {
    for (const auto& name : names) {
      const int64_t index = header.find(name);
      if (index < 0) {
        fail(file, ":1: no column '", name, "' in header; columns: ", header.joined_names());
      }
      const bool typed_list = header.types[index] == "token_seq";
      selected.push_back({index, kind == RawKind::Categorical && typed_list ? RawKind::MultiValued : kind,
                          header.names[index]});
    }
  };
  add(selection.categorical, RawKind::Categorical);
  add(selection.continuous, RawKind::Continuous);
  add(selection.multi_valued, RawKind::MultiValued);
  return selected;
}

std::vector<RawColumn> make_columns(const std::vector<SelectedColumn>& selected) {
  std::vector<RawColumn> columns;
  for (const auto& s : selected) {
    RawColumn column;
    column.name = s.name;
    column.kind = s.kind;
    columns.push_back(std::move(column));
  }
  return columns;
}

std::string parse_selected(const std::vector<SelectedColumn>& selected,
                           const std::vector<std::string>& fields, std::vector<RawColumn>& values) {
  // Validate every field before appending any, so a bad row leaves the columns aligned.
  std::vector<double> numbers(selected.size(), std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0; i < selected.size(); ++i) {
    const std::string& field = fields[selected[i].index];
    if (selected[i].kind != RawKind::Continuous || field.empty()) continue;
    const std::optional<double> number = parse_double(field);
    if (!number) return str_cat("value '", field, "' in column '", selected[i].name, "' is not a number");
    numbers[i] = *number;
  }
  for (size_t i = 0; i < selected.size(); ++i) {
    const std::string& field = fields[selected[i].index];
    switch (selected[i].kind) {
      case RawKind::Categorical: values[i].tokens.push_back(field); break;
      case RawKind::Continuous: values[i].numbers.push_back(numbers[i]); break;
      case RawKind::MultiValued: values[i].lists.push_back(split_whitespace(field)); break;
    }
  }
  return "";
}

}  // namespace seqrec
