// The loader's readers of a split's shard files (the loader's private part).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "seqrec/data/dataset.h"
#include "seqrec/data/loader_epoch_plan.h"
#include "seqrec/data/shard.h"

namespace seqrec {

// Opens shards on demand and keeps the `max_open` used last open: an open shard holds
// HDF5's chunk caches, so memory must not grow with the number of shards. Used by one
// thread at a time.
class ShardReaders {
 public:
  ShardReaders(const Dataset& dataset, const std::string& split, int64_t max_open);

  SessionBlock read(const ShardRange& range);
  bool has_targets();

 private:
  const ShardReader& open(int64_t shard);

  std::vector<std::filesystem::path> paths_;
  std::vector<int64_t> sessions_;  // as the manifest records them
  Schema schema_;
  int64_t max_open_;
  std::vector<std::optional<ShardReader>> readers_;
  std::vector<int64_t> last_use_;  // per shard, in reads
  int64_t reads_ = 0;
  int64_t open_ = 0;
};

}  // namespace seqrec
