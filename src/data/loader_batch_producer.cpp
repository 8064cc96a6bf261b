#include "seqrec/data/loader_batch_producer.h"

#include <algorithm>

namespace seqrec {

namespace {

// Shard files a loader keeps open. Reopening costs far less than reading a block, while
// each open file holds HDF5 chunk caches of up to 1 MiB per dataset.
constexpr int64_t kMaxOpenShards = 8;

}  // namespace

BatchProducer::BatchProducer(const Dataset& dataset, const LoaderOptions& options, const LoaderState& start)
    : dataset_(dataset), options_(options), readers_(dataset, options.split, kMaxOpenShards) {
  empty_ = SessionBlock::empty(dataset_.schema(), readers_.has_targets());
  for (const ShardEntry& shard : dataset_.shards(options_.split)) {
    shard_sessions_.push_back(shard.sessions);
    num_sessions_ += shard.sessions;
  }
  batches_per_epoch_ = (num_sessions_ + options_.global_batch_size - 1) / options_.global_batch_size;
  begin_epoch(start.epoch, start.step);
}

void BatchProducer::begin_epoch(int64_t epoch, int64_t step) {
  epoch_ = epoch;
  step_ = step;
  auto plan = std::make_shared<const EpochPlan>(shard_sessions_, dataset_.manifest().block_sessions,
                                                options_.streams, options_.shuffle, options_.seed, epoch);
  const int64_t buffer = options_.shuffle ? options_.shuffle_buffer : 1;
  const int64_t position = step * options_.global_batch_size;
  streams_.clear();
  for (int64_t v = options_.rank; v < options_.streams; v += options_.world_size) {
    streams_.emplace_back(plan, v, buffer, empty_, plan->draws_before(v, position));
  }
}

std::optional<Batch> BatchProducer::next() {
  if (step_ == batches_per_epoch_) {
    begin_epoch(epoch_ + 1, 0);
    return std::nullopt;
  }
  // Global batch step_ is positions [begin, end); position p is a draw of stream p mod V,
  // which this rank owns when (p mod V) mod W == rank.
  const int64_t begin = step_ * options_.global_batch_size;
  const int64_t end = std::min(begin + options_.global_batch_size, num_sessions_);
  SessionBlock share = empty_;
  for (int64_t p = begin; p < end; ++p) {
    const int64_t v = p % options_.streams;
    if (v % options_.world_size == options_.rank) streams_[v / options_.world_size].draw_into(share, readers_);
  }
  ++step_;
  return collate(share, dataset_.schema(), options_.collate);
}

}  // namespace seqrec
