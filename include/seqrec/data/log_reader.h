// Readers of interaction logs in the formats public data sets come in.
//
//   delimited      text with a header line, tab / ',' / ';' separated (RecBole atomic
//                  files, YOOCHOOSE, DIGINETICA, most CSV exports)
//   sasrec         "user item" per line, whitespace separated, no header; file order
//                  is time order (the SASRec repository's data files)
//   user-sequence  "user item1 item2 ..." per line, time-ordered (Beauty.txt of S3-Rec)
//
// The exact rules are in docs/PREPARE.md.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "seqrec/data/bad_rows.h"
#include "seqrec/data/delimited_text.h"
#include "seqrec/data/raw_events.h"

namespace seqrec {

enum class LogFormat { Auto, Delimited, SasrecPairs, UserSequence };

LogFormat parse_log_format(const std::string& name);  // auto|delimited|sasrec|user-sequence
const char* to_string(LogFormat format);

// By content: a first line with a field that is not a number is a header (delimited);
// else every line holding exactly two fields means sasrec pairs; else user-sequence.
LogFormat detect_log_format(const std::filesystem::path& path);

struct LogReadOptions {
  LogFormat format = LogFormat::Auto;
  // Columns of delimited logs, by header name; "" for none. Sessions come from the
  // session column when there is one, else from the user column.
  std::string session_column;
  std::string user_column;
  std::string item_column = "item_id";
  std::string time_column;
  double time_unit_seconds = 1;  // time values are multiplied by this (0.001: milliseconds)
  ColumnSelection extra_columns;  // per-event features
  BadRowPolicy bad_rows = BadRowPolicy::Error;
};

// Reads the files one after another into one log; all must have the same format. Ids in
// sasrec and user-sequence files must be non-negative 64-bit integers.
RawEvents read_event_log(const std::vector<std::filesystem::path>& paths, const LogReadOptions& options);

}  // namespace seqrec
