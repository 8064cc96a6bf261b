#include "seqrec/data/side_table.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "seqrec/core/error.h"

namespace seqrec {

namespace {

// Every column but the key, by its RecBole type: float -> continuous, token_seq and
// float_seq -> multi-valued, anything else categorical.
ColumnSelection all_columns(const Header& header, int64_t key_index) {
  ColumnSelection all;
  for (size_t i = 0; i < header.names.size(); ++i) {
    if (static_cast<int64_t>(i) == key_index) continue;
    const std::string& type = header.types[i];
    (type == "float" ? all.continuous : type == "token_seq" || type == "float_seq" ? all.multi_valued : all.categorical)
        .push_back(header.names[i]);
  }
  return all;
}

}  // namespace

SideTable read_side_table(const SideTableOptions& options, BadRowPolicy policy) {
  const std::string file = options.path.string();
  LineReader lines(options.path);
  const Header header = read_header(lines);
  const int64_t key_index = require_column(header, options.key_column, "key column", file);
  const ColumnSelection wanted = options.columns.empty() ? all_columns(header, key_index) : options.columns;
  const std::vector<SelectedColumn> selected = select_columns(header, wanted, file);

  SideTable table;
  table.source = file;
  table.columns = make_columns(selected);
  std::unordered_map<std::string, int64_t> line_of_key;
  BadRows bad_rows(policy);
  std::string line;
  std::vector<std::string> fields;
  while (lines.next(line)) {
    if (is_blank(line)) continue;
    if (!split_fields(line, header.delimiter, fields)) {
      bad_rows.report(lines.where(), "unterminated quote");
      continue;
    }
    if (fields.size() != header.names.size()) {
      bad_rows.report(lines.where(), str_cat("expected ", header.names.size(), " fields (",
                                             header.joined_names(), "), found ", fields.size()));
      continue;
    }
    const std::string& key = fields[key_index];
    if (key.empty()) {
      bad_rows.report(lines.where(), str_cat("empty key in column '", header.names[key_index], "'"));
      continue;
    }
    if (line_of_key.count(key)) {
      fail(lines.where(), ": key '", key, "' already listed on line ", line_of_key[key]);
    }
    const std::string problem = parse_selected(selected, fields, table.columns);
    if (!problem.empty()) {
      bad_rows.report(lines.where(), problem);
      continue;
    }
    line_of_key[key] = lines.line_number();
    table.rows.emplace(key, table.size());
  }
  if (table.size() == 0) fail(file, ": side table has no rows");
  return table;
}

SideTable read_attribute_map(const std::filesystem::path& path, const std::string& name) {
  const std::string file = path.string();
  std::ifstream in(path);
  if (!in || std::filesystem::is_directory(path)) fail("cannot open attribute file '", file, "'");
  nlohmann::json json;
  try {
    in >> json;
  } catch (const nlohmann::json::parse_error& e) {
    fail(file, ": not valid JSON (byte ", e.byte, ")");
  }
  if (!json.is_object()) fail(file, ": expected a JSON object of key -> list of values");

  SideTable table;
  table.source = file;
  RawColumn column;
  column.name = name;
  column.kind = RawKind::MultiValued;
  for (const auto& [key, values] : json.items()) {
    if (!values.is_array()) fail(file, ": value of key '", key, "' is not a list");
    std::vector<std::string> tokens;
    for (const auto& value : values) {
      if (value.is_number_integer() || value.is_number_unsigned()) {
        tokens.push_back(value.dump());
      } else if (value.is_string()) {
        tokens.push_back(value.get<std::string>());
      } else {
        fail(file, ": key '", key, "' lists ", value.dump(), " (expected integers or strings)");
      }
    }
    table.rows.emplace(key, static_cast<int64_t>(column.lists.size()));
    column.lists.push_back(std::move(tokens));
  }
  if (column.lists.empty()) fail(file, ": attribute map is empty");
  table.columns.push_back(std::move(column));
  return table;
}

}  // namespace seqrec
