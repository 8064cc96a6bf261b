// Which sessions each stream reads in one epoch (the loader's private part; the design
// is described in loader.h).
#pragma once

#include <cstdint>
#include <vector>

namespace seqrec {

// Consecutive sessions [begin, end) of one shard of the split.
struct ShardRange {
  int64_t shard = 0;  // index into the split's shards, in manifest order
  int64_t begin = 0;
  int64_t end = 0;
};

class EpochPlan {
 public:
  // shard_sessions: the session count of each of the split's shards, in manifest order.
  // shuffle=false keeps the blocks in file order.
  EpochPlan(const std::vector<int64_t>& shard_sessions, int64_t block_sessions, int64_t streams,
            bool shuffle, uint64_t seed, int64_t epoch);

  int64_t num_sessions() const { return block_starts_.back(); }
  int64_t num_streams() const { return streams_; }
  int64_t stream_size(int64_t stream) const;
  // The sessions of `stream` from its index-th one to the end of the block holding it,
  // or to the end of the stream if that comes first: one read.
  ShardRange run_from(int64_t stream, int64_t index) const;
  // How many of `stream`'s draws land before global position `position`.
  int64_t draws_before(int64_t stream, int64_t position) const;
  // The seed of a stream's shuffle buffer in this epoch.
  uint64_t stream_seed(int64_t stream) const;

 private:
  int64_t stream_start(int64_t stream) const;  // position of its first session in block order

  std::vector<ShardRange> blocks_;     // in this epoch's order
  std::vector<int64_t> block_starts_;  // where each block starts in that order; back() == N
  int64_t streams_;
  uint64_t seed_;
  int64_t epoch_;
};

}  // namespace seqrec
