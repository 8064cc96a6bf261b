#include "seqrec/data/loader_shard_readers.h"

#include "seqrec/core/error.h"

namespace seqrec {

ShardReaders::ShardReaders(const Dataset& dataset, const std::string& split, int64_t max_open)
    : schema_(dataset.schema()), max_open_(max_open) {
  for (const ShardEntry& shard : dataset.shards(split)) {
    paths_.push_back(dataset.path_of(shard));
    sessions_.push_back(shard.sessions);
  }
  readers_.resize(paths_.size());
  last_use_.resize(paths_.size(), 0);
}

SessionBlock ShardReaders::read(const ShardRange& range) { return open(range.shard).read(range.begin, range.end); }

bool ShardReaders::has_targets() { return open(0).has_targets(); }

const ShardReader& ShardReaders::open(int64_t shard) {
  last_use_[shard] = ++reads_;
  std::optional<ShardReader>& reader = readers_[shard];
  if (reader) return *reader;
  if (open_ == max_open_) {
    int64_t oldest = -1;
    for (int64_t s = 0; s < static_cast<int64_t>(readers_.size()); ++s) {
      if (readers_[s] && (oldest < 0 || last_use_[s] < last_use_[oldest])) oldest = s;
    }
    readers_[oldest].reset();
    --open_;
  }
  reader.emplace(paths_[shard], schema_);
  ++open_;
  // The epoch plan is cut from the manifest's counts; a shard that disagrees would
  // shift every session after it.
  if (reader->num_sessions() != sessions_[shard]) {
    fail("shard '", paths_[shard].string(), "' holds ", reader->num_sessions(), " sessions, the manifest records ",
         sessions_[shard]);
  }
  return *reader;
}

}  // namespace seqrec
