// Writes a data set directory: shards per split, then schema.json and manifest.json.
//
// Writes into `dir` as given: callers that need all-or-nothing output pass the temporary
// path of a StagedPath and commit it after finish().
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "seqrec/data/dataset.h"
#include "seqrec/data/session_block.h"
#include "seqrec/data/shard.h"

namespace seqrec {

class DatasetWriter {
 public:
  DatasetWriter(std::filesystem::path dir, Schema schema, ShardWriteOptions options = {});

  // Writes a split's sessions, in order, into `num_shards` files of about equal session
  // count (named "<split>-00000.h5"...). Targets are written when the block has them.
  void write_split(const std::string& split, const SessionBlock& sessions, int num_shards);
  // Checksums the shards and writes schema.json, then manifest.json last.
  void finish(const std::string& source_json);

  const Schema& schema() const { return schema_; }

 private:
  std::filesystem::path dir_;
  Schema schema_;
  ShardWriteOptions options_;
  std::vector<ShardEntry> shards_;
};

}  // namespace seqrec
