// Interaction logs as read, before any ids exist.
//
// Readers fill these from files (or the synthetic generator builds them); prepare turns
// them into sessions, vocabularies and shards. Values stay raw text so that the
// vocabularies, not the input order or format, decide the ids.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace seqrec {

enum class RawKind {
  Categorical,  // one token per row
  Continuous,   // one number per row
  MultiValued,  // a list of tokens per row (RecBole `:token_seq`, attribute lists)
};

// One column of feature values, row by row; only the vector of its kind is filled.
struct RawColumn {
  std::string name;
  RawKind kind = RawKind::Categorical;
  std::vector<std::string> tokens;               // Categorical
  std::vector<double> numbers;                   // Continuous
  std::vector<std::vector<std::string>> lists;   // MultiValued

  int64_t rows() const;
  void reserve(int64_t rows);
};

// One row per event, in input order (files one after another, then line order).
struct RawEvents {
  std::vector<std::string> session;  // empty when sessions come from users
  std::vector<std::string> user;     // empty when the log has no users
  std::vector<std::string> item;
  std::vector<double> time;          // Unix seconds; empty when the log has no times
  std::vector<RawColumn> columns;    // extra per-event features
  int64_t skipped_rows = 0;          // malformed rows left out under --on-bad-row=skip

  int64_t size() const { return static_cast<int64_t>(item.size()); }
  bool has_sessions() const { return !session.empty(); }
  bool has_users() const { return !user.empty(); }
  bool has_time() const { return !time.empty(); }
};

// Features of items or users, one row per key, joined onto events or sessions by key.
struct SideTable {
  std::string source;                              // file name, for messages
  std::unordered_map<std::string, int64_t> rows;   // key -> row
  std::vector<RawColumn> columns;

  int64_t size() const { return static_cast<int64_t>(rows.size()); }
  // Row of `key`, or -1 when the table has none.
  int64_t row_of(const std::string& key) const;
};

}  // namespace seqrec
