// Readers of item-side and user-side feature tables, joined onto the log by key.
#pragma once

#include <filesystem>
#include <string>

#include "seqrec/data/bad_rows.h"
#include "seqrec/data/delimited_text.h"
#include "seqrec/data/raw_events.h"

namespace seqrec {

struct SideTableOptions {
  std::filesystem::path path;  // a delimited file with a header
  std::string key_column;      // the item or user id column
  ColumnSelection columns;     // the features to take from it; empty: every column but
                               // the key, typed by its RecBole type (float: continuous,
                               // token_seq, float_seq: multi-valued, else categorical)
};

// A key listed twice is an error naming both lines.
SideTable read_side_table(const SideTableOptions& options, BadRowPolicy bad_rows);

// A JSON object of key -> list of values (numbers or strings), such as
// Beauty_item2attributes.json, as one multi-valued column named `name`.
SideTable read_attribute_map(const std::filesystem::path& path, const std::string& name);

}  // namespace seqrec
