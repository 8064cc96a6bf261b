// Sessions to recommend for, as `seqrec recommend` reads them: from a text file of raw
// item ids mapped through a model's vocabulary, or from a prepared data set's split.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "seqrec/data/dataset.h"
#include "seqrec/data/session_block.h"
#include "seqrec/data/vocabulary.h"

namespace seqrec {

struct QuerySessions {
  std::vector<std::string> keys;  // by session, in input order
  SessionBlock sessions;          // ids, without targets; session_ids count 0, 1, ...
  int64_t unknown_items = 0;      // raw items the vocabulary lacks, left out
  int64_t dropped_sessions = 0;   // sessions left without a known item, left out
};

// Delimited text (tab, comma or semicolon, detected from the header line) with the
// columns `session_id` and `items`: the session's raw item ids, space-separated, oldest
// first. The other features of the schema get filler values (unknown ids, zeros): the
// file suits models that use item ids only. UserError naming the file and line.
QuerySessions read_query_sessions(const std::filesystem::path& path, const Schema& schema, const Vocabulary& items);

// Every session of a split as the data set holds it, side features included; of valid
// and test sessions their inputs (what evaluation ranks the held-out target against).
// Keys are the session column of sessions.tsv (the row number when there is none).
QuerySessions read_query_sessions(const Dataset& dataset, const std::string& split);

}  // namespace seqrec
