// The loader's readers of a split's shard files (the loader's private part).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "seqrec/data/dataset.h"
#include "seqrec/data/loader_epoch_plan.h"
#include "seqrec/data/shard.h"

namespace seqrec {

// Opens each shard on its first read and keeps it open. Used by one thread at a time.
class ShardReaders {
 public:
  ShardReaders(const Dataset& dataset, const std::string& split);

  SessionBlock read(const ShardRange& range);
  bool has_targets();

 private:
  const ShardReader& open(int64_t shard);

  std::vector<std::filesystem::path> paths_;
  std::vector<int64_t> sessions_;  // as the manifest records them
  Schema schema_;
  std::vector<std::optional<ShardReader>> readers_;
};

}  // namespace seqrec
