// `seqrec prepare`: from an interaction log (or the synthetic generator) to a data set
// directory of shards, vocabularies and sessions.tsv.
//
// Reads the log and side tables, groups events into time-ordered sessions, filters rare
// items and short sessions, splits, builds one vocabulary per categorical feature and
// writes everything into a temporary sibling of the output, renamed into place only
// when complete. The same options and inputs give the same files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "seqrec/data/log_reader.h"
#include "seqrec/data/session_filter.h"
#include "seqrec/data/shard.h"
#include "seqrec/data/side_table.h"
#include "seqrec/data/split.h"
#include "seqrec/data/synthetic.h"

namespace seqrec {

struct PrepareOptions {
  // Input: log files, or the synthetic generator when `synthetic` is set.
  std::vector<std::filesystem::path> inputs;
  LogReadOptions log;                      // its bad-row policy also applies to side tables
  SideTableOptions item_table;             // path empty: none; features tagged "item"
  SideTableOptions user_table;             // path empty: none; features tagged "user"
  std::filesystem::path item_attributes;   // JSON item -> attribute list; empty: none
  std::string item_attributes_name = "attributes";
  bool user_id_feature = false;            // the session's user as a context feature (SSE-PT)
  bool synthetic = false;
  SyntheticOptions synthetic_options;

  double session_gap_seconds = 0;          // > 0: split users' histories at such gaps
  FilterOptions filter{1, 2};
  SplitOptions split;

  std::filesystem::path output;
  bool overwrite = false;
  int num_shards = 1;                      // per split, at most one per session
  ShardWriteOptions shard;
};

struct SplitCounts {
  int64_t sessions = 0;
  int64_t events = 0;  // input events, targets not included
};

struct PrepareSummary {
  int64_t read_events = 0;
  int64_t skipped_rows = 0;
  int64_t sessions = 0;  // after filtering
  int64_t events = 0;
  int64_t items = 0;     // distinct items after filtering
  FilterReport filter;
  int64_t split_dropped_sessions = 0;
  SplitCounts train, valid, test;
};

PrepareSummary prepare_dataset(const PrepareOptions& options);

}  // namespace seqrec
