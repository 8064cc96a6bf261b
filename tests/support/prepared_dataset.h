// A data set written by `seqrec prepare`, read back through its shards, vocabularies
// and sessions.tsv, so tests can compare it with the raw input in raw terms.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "seqrec/data/dataset.h"
#include "seqrec/data/session_block.h"
#include "seqrec/data/vocabulary.h"

namespace seqrec::test {

struct PreparedDataset {
  Dataset dataset;
  std::vector<std::string> session_key;   // by session row, from sessions.tsv
  std::vector<std::string> session_user;
  std::map<std::string, Vocabulary> vocabularies;  // by categorical feature

  static PreparedDataset open(const std::filesystem::path& dir);

  // All sessions of a split, its shards read with ShardReader and concatenated in order.
  SessionBlock read(const std::string& split) const;
  // Index of a sequence or context feature among the block's columns of its scope.
  int64_t column_index(const std::string& feature) const;
  // Raw values of one row of a categorical column, padding left out.
  std::vector<std::string> decode(const std::string& feature, const Column& column, int64_t row) const;
  // Raw items of one session of a block: its input events, then its target if any.
  std::vector<std::string> items(const SessionBlock& block, int64_t session) const;
};

// Every session's full item sequence, by session key: the longest of its train input,
// valid input + target and test input + target. Fails the test when a split's part is
// not a prefix of the session (the split rules only ever cut sessions at their end).
std::map<std::string, std::vector<std::string>> full_item_sequences(const PreparedDataset& prepared);

}  // namespace seqrec::test
