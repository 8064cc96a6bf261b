#include "seqrec/data/loader_shard_readers.h"

#include "seqrec/core/error.h"

namespace seqrec {

ShardReaders::ShardReaders(const Dataset& dataset, const std::string& split) : schema_(dataset.schema()) {
  for (const ShardEntry& shard : dataset.shards(split)) {
    paths_.push_back(dataset.path_of(shard));
    sessions_.push_back(shard.sessions);
  }
  readers_.resize(paths_.size());
}

SessionBlock ShardReaders::read(const ShardRange& range) { return open(range.shard).read(range.begin, range.end); }

bool ShardReaders::has_targets() { return open(0).has_targets(); }

const ShardReader& ShardReaders::open(int64_t shard) {
  std::optional<ShardReader>& reader = readers_[shard];
  if (!reader) {
    reader.emplace(paths_[shard], schema_);
    // The epoch plan is cut from the manifest's counts; a shard that disagrees would
    // shift every session after it.
    if (reader->num_sessions() != sessions_[shard]) {
      fail("shard '", paths_[shard].string(), "' holds ", reader->num_sessions(),
           " sessions, the manifest records ", sessions_[shard]);
    }
  }
  return *reader;
}

}  // namespace seqrec
