#include "seqrec/data/log_reader.h"

#include <algorithm>
#include <initializer_list>
#include <optional>

#include "seqrec/core/error.h"
#include "seqrec/core/log.h"
#include "seqrec/core/parse.h"

namespace seqrec {

namespace {

// Canonical decimal text of a raw id, so "007" and "7" are one item; nullopt unless a
// non-negative 64-bit integer.
std::optional<std::string> parse_raw_id(const std::string& text) {
  const std::optional<int64_t> value = parse_int64(text);
  if (!value || *value < 0) return std::nullopt;
  return std::to_string(*value);
}

std::string bad_id(const char* what, const std::string& text) {
  return str_cat(what, " id '", text, "' is not a non-negative 64-bit integer");
}

// The first of the given field indices (-1: column not used) whose field is empty, or -1.
int64_t first_empty(const std::vector<std::string>& fields, std::initializer_list<int64_t> indices) {
  for (int64_t index : indices) {
    if (index >= 0 && fields[index].empty()) return index;
  }
  return -1;
}

void read_delimited(const std::filesystem::path& path, const LogReadOptions& options, BadRows& bad_rows,
                    RawEvents& events) {
  LineReader lines(path);
  const Header header = read_header(lines);
  const std::string file = path.string();
  auto optional_column = [&](const std::string& name, const char* option) -> int64_t {
    return name.empty() ? -1 : require_column(header, name, option, file);
  };
  const int64_t item_index = require_column(header, options.item_column, "--item-col", file);
  const int64_t session_index = optional_column(options.session_column, "--session-col");
  const int64_t user_index = optional_column(options.user_column, "--user-col");
  const int64_t time_index = optional_column(options.time_column, "--time-col");
  const std::vector<SelectedColumn> selected = select_columns(header, options.extra_columns, file);
  if (events.columns.empty()) {
    events.columns = make_columns(selected);
  } else {
    for (size_t i = 0; i < selected.size(); ++i) {
      if (selected[i].kind != events.columns[i].kind) {
        fail(file, ":1: column '", selected[i].name, "' has another type than in the first input file");
      }
    }
  }

  const size_t num_fields = header.names.size();
  std::string line;
  std::vector<std::string> fields;
  while (lines.next(line)) {
    if (is_blank(line)) continue;
    if (!split_fields(line, header.delimiter, fields)) {
      bad_rows.report(lines.where(), "unterminated quote");
      continue;
    }
    if (fields.size() != num_fields) {
      bad_rows.report(lines.where(), str_cat("expected ", num_fields, " fields (", header.joined_names(),
                                             "), found ", fields.size()));
      continue;
    }
    const int64_t empty = first_empty(fields, {item_index, session_index, user_index});
    if (empty >= 0) {
      bad_rows.report(lines.where(), str_cat("empty value in column '", header.names[empty], "'"));
      continue;
    }
    double time = 0;
    if (time_index >= 0) {
      const std::optional<double> seconds = parse_double(fields[time_index]);
      if (!seconds) {
        bad_rows.report(lines.where(), str_cat("timestamp '", fields[time_index], "' in column '",
                                               header.names[time_index], "' is not a number"));
        continue;
      }
      time = *seconds * options.time_unit_seconds;
    }
    const std::string problem = parse_selected(selected, fields, events.columns);
    if (!problem.empty()) {
      bad_rows.report(lines.where(), problem);
      continue;
    }
    events.item.push_back(fields[item_index]);
    if (session_index >= 0) events.session.push_back(fields[session_index]);
    if (user_index >= 0) events.user.push_back(fields[user_index]);
    if (time_index >= 0) events.time.push_back(time);
  }
}

void read_sasrec_pairs(const std::filesystem::path& path, BadRows& bad_rows, RawEvents& events) {
  LineReader lines(path);
  std::string line;
  while (lines.next(line)) {
    if (is_blank(line)) continue;
    const std::vector<std::string> fields = split_whitespace(line);
    if (fields.size() != 2) {
      bad_rows.report(lines.where(), str_cat("expected 2 fields (user item), found ", fields.size()));
      continue;
    }
    const std::optional<std::string> user = parse_raw_id(fields[0]);
    const std::optional<std::string> item = parse_raw_id(fields[1]);
    if (!user || !item) {
      bad_rows.report(lines.where(), user ? bad_id("item", fields[1]) : bad_id("user", fields[0]));
      continue;
    }
    events.user.push_back(*user);
    events.item.push_back(*item);
  }
}

void read_user_sequences(const std::filesystem::path& path, BadRows& bad_rows, RawEvents& events) {
  LineReader lines(path);
  std::string line;
  std::vector<std::string> items;
  while (lines.next(line)) {
    if (is_blank(line)) continue;
    const std::vector<std::string> fields = split_whitespace(line);
    const std::optional<std::string> user = parse_raw_id(fields[0]);
    if (!user) {
      bad_rows.report(lines.where(), bad_id("user", fields[0]));
      continue;
    }
    items.clear();
    for (size_t i = 1; i < fields.size(); ++i) {
      const std::optional<std::string> item = parse_raw_id(fields[i]);
      if (!item) break;
      items.push_back(*item);
    }
    if (items.size() + 1 != fields.size()) {
      bad_rows.report(lines.where(), bad_id("item", fields[items.size() + 1]));
      continue;
    }
    for (auto& item : items) {
      events.user.push_back(*user);
      events.item.push_back(std::move(item));
    }
  }
}

void check_no_columns_for(LogFormat format, const LogReadOptions& options) {
  const bool any = !options.session_column.empty() || !options.user_column.empty() ||
                   !options.time_column.empty() || !options.extra_columns.empty();
  if (any) {
    fail("--format ", to_string(format), ": files without a header have no named columns; "
         "leave out --session-col, --user-col, --time-col and the feature columns");
  }
}

}  // namespace

LogFormat parse_log_format(const std::string& name) {
  if (name == "auto") return LogFormat::Auto;
  if (name == "delimited") return LogFormat::Delimited;
  if (name == "sasrec") return LogFormat::SasrecPairs;
  if (name == "user-sequence") return LogFormat::UserSequence;
  fail("--format: unknown input format '", name, "' (expected auto, delimited, sasrec or user-sequence)");
}

const char* to_string(LogFormat format) {
  switch (format) {
    case LogFormat::Auto: return "auto";
    case LogFormat::Delimited: return "delimited";
    case LogFormat::SasrecPairs: return "sasrec";
    case LogFormat::UserSequence: return "user-sequence";
  }
  return "?";
}

LogFormat detect_log_format(const std::filesystem::path& path) {
  LineReader lines(path);
  std::string line;
  bool first = true;
  bool all_pairs = true;
  while (lines.next(line)) {
    if (is_blank(line)) continue;
    if (first) {
      std::string spaced = line;
      std::replace_if(spaced.begin(), spaced.end(), [](char c) { return c == ',' || c == ';'; }, ' ');
      const std::vector<std::string> tokens = split_whitespace(spaced);
      if (!std::all_of(tokens.begin(), tokens.end(), [](const std::string& t) { return parse_double(t).has_value(); })) {
        return LogFormat::Delimited;
      }
      first = false;
    }
    if (split_whitespace(line).size() != 2) {
      all_pairs = false;
      break;
    }
  }
  if (first) fail(path.string(), ": file is empty");
  return all_pairs ? LogFormat::SasrecPairs : LogFormat::UserSequence;
}

RawEvents read_event_log(const std::vector<std::filesystem::path>& paths, const LogReadOptions& options) {
  if (paths.empty()) fail("--input: no input file given");
  std::vector<LogFormat> formats;
  for (const auto& path : paths) {
    formats.push_back(options.format == LogFormat::Auto ? detect_log_format(path) : options.format);
    if (formats.back() != formats.front()) {
      fail("inputs '", paths.front().string(), "' (", to_string(formats.front()), ") and '", path.string(),
           "' (", to_string(formats.back()), ") have different formats");
    }
  }
  const LogFormat format = formats.front();
  if (format != LogFormat::Delimited) check_no_columns_for(format, options);

  RawEvents events;
  BadRows bad_rows(options.bad_rows);
  for (const auto& path : paths) {
    const int64_t events_before = events.size();
    const int64_t skipped_before = bad_rows.skipped();
    switch (format) {
      case LogFormat::Delimited: read_delimited(path, options, bad_rows, events); break;
      case LogFormat::SasrecPairs: read_sasrec_pairs(path, bad_rows, events); break;
      case LogFormat::UserSequence: read_user_sequences(path, bad_rows, events); break;
      case LogFormat::Auto: break;
    }
    if (events.size() == events_before && bad_rows.skipped() == skipped_before) {
      fail(path.string(), ": file has no events");
    }
  }
  if (events.size() == 0) fail(paths.front().string(), ": no events left after skipping bad rows");
  events.skipped_rows = bad_rows.skipped();
  if (bad_rows.skipped() > 0) log::warn("skipped ", bad_rows.skipped(), " bad rows; the first: ", bad_rows.first());
  return events;
}

}  // namespace seqrec
