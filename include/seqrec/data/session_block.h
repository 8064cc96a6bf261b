// Sessions in memory, column by column: what prepare writes and the loader reads.
//
// A block of S sessions with E events in total. Sequence columns have one row per event
// (sessions laid end to end, CSR-style through `offsets`); context and target columns
// one row per session. Columns follow the schema's order of sequence or context
// features; a multi-valued feature stores `width` values per row, padded with 0.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "seqrec/data/schema.h"

namespace seqrec {

struct Column {
  std::variant<std::vector<int64_t>, std::vector<float>, std::vector<double>> values;
  int64_t width = 1;

  static Column empty_like(const FeatureSpec& feature);
  DType dtype() const;
  int64_t rows() const;
  // Appends rows [begin, end) of another column of the same type and width.
  void append_rows(const Column& other, int64_t begin, int64_t end);
  void reserve_rows(int64_t rows);

  template <typename T> std::vector<T>& as() { return std::get<std::vector<T>>(values); }
  template <typename T> const std::vector<T>& as() const { return std::get<std::vector<T>>(values); }
};

struct SessionBlock {
  std::vector<int64_t> offsets{0};  // S+1, offsets[0] == 0
  std::vector<int64_t> session_ids; // S: row in the data set's sessions.tsv
  std::vector<Column> sequence;     // per sequence feature, E rows
  std::vector<Column> context;      // per context feature, S rows
  std::vector<Column> targets;      // per sequence feature, S rows (held-out event); empty on train

  // An empty block with the columns the schema asks for.
  static SessionBlock empty(const Schema& schema, bool with_targets);

  int64_t num_sessions() const { return static_cast<int64_t>(session_ids.size()); }
  int64_t num_events() const { return offsets.back(); }
  int64_t length(int64_t session) const { return offsets[session + 1] - offsets[session]; }
  bool has_targets() const { return !targets.empty(); }

  // Appends session `row` of another block with the same columns.
  void append_session(const SessionBlock& other, int64_t row);
};

}  // namespace seqrec
