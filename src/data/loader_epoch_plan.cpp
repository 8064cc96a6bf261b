#include "seqrec/data/loader_epoch_plan.h"

#include <algorithm>

#include "seqrec/core/rng.h"

namespace seqrec {

namespace {

// Purposes mixed into derive_seed so that the block order and the buffers draw
// independent numbers from the one user seed.
constexpr uint64_t kSeedBlockOrder = 1;
constexpr uint64_t kSeedShuffleBuffer = 2;

}  // namespace

EpochPlan::EpochPlan(const std::vector<int64_t>& shard_sessions, int64_t block_sessions, int64_t streams,
                     bool shuffle, uint64_t seed, int64_t epoch)
    : streams_(streams), seed_(seed), epoch_(epoch) {
  for (size_t shard = 0; shard < shard_sessions.size(); ++shard) {
    for (int64_t begin = 0; begin < shard_sessions[shard]; begin += block_sessions) {
      blocks_.push_back({static_cast<int64_t>(shard), begin, std::min(begin + block_sessions, shard_sessions[shard])});
    }
  }
  if (shuffle) {
    Rng rng(derive_seed(seed, {kSeedBlockOrder, static_cast<uint64_t>(epoch)}));
    rng.shuffle(blocks_);
  }
  block_starts_.reserve(blocks_.size() + 1);
  block_starts_.push_back(0);
  for (const ShardRange& block : blocks_) block_starts_.push_back(block_starts_.back() + block.end - block.begin);
}

// N = q*V + r sessions: the first r streams get q + 1, the others q, which is exactly
// what global positions 0..N-1 ask of each stream when position p is a draw of stream p mod V.
int64_t EpochPlan::stream_size(int64_t stream) const {
  const int64_t n = num_sessions();
  return n / streams_ + (stream < n % streams_ ? 1 : 0);
}

int64_t EpochPlan::stream_start(int64_t stream) const {
  const int64_t n = num_sessions();
  return stream * (n / streams_) + std::min(stream, n % streams_);
}

ShardRange EpochPlan::run_from(int64_t stream, int64_t index) const {
  const int64_t position = stream_start(stream) + index;
  const auto next = std::upper_bound(block_starts_.begin(), block_starts_.end(), position);
  const size_t block = static_cast<size_t>(next - block_starts_.begin()) - 1;
  const ShardRange& b = blocks_[block];
  const int64_t begin = b.begin + (position - block_starts_[block]);
  const int64_t stream_end = stream_start(stream) + stream_size(stream);
  const int64_t end = b.begin + (std::min(block_starts_[block + 1], stream_end) - block_starts_[block]);
  return {b.shard, begin, end};
}

int64_t EpochPlan::draws_before(int64_t stream, int64_t position) const {
  position = std::min(position, num_sessions());
  return position > stream ? (position - stream - 1) / streams_ + 1 : 0;
}

uint64_t EpochPlan::stream_seed(int64_t stream) const {
  return derive_seed(seed_, {kSeedShuffleBuffer, static_cast<uint64_t>(epoch_), static_cast<uint64_t>(stream)});
}

}  // namespace seqrec
