// Streams batches of one split to each rank with bounded memory.
//
// The order of sessions in an epoch does not depend on the number of ranks, so a run on
// N ranks sees the same global batches as one rank (and a checkpoint resumes onto another
// rank count). It is built from V "streams" (`streams`, fixed per data set and run):
//   1. the split's blocks (block_sessions consecutive sessions of a shard) are permuted
//      with a seed derived from (seed, epoch);
//   2. the sessions, in permuted-block order, are cut into V contiguous ranges of equal
//      size (+-1); stream v reads range v and passes it through its own shuffle buffer
//      (seeded by seed, epoch, v);
//   3. global position p of the epoch is the (p / V)-th draw of stream p mod V, and
//      global batch k is positions [k*G, (k+1)*G) for global batch size G.
// Rank r owns the streams with v mod W == r and reads only their ranges; its share of a
// global batch is the positions drawn from its streams. Every rank yields ceil(N / G)
// batches per epoch (its share of the last one may be empty), and each session appears
// once per epoch on exactly one rank. A background thread reads and collates ahead into
// a bounded queue.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "seqrec/data/batch.h"
#include "seqrec/data/dataset.h"

namespace seqrec {

struct LoaderOptions {
  std::string split = kSplitTrain;
  int64_t global_batch_size = 128;  // G: sessions per step over all ranks
  CollateOptions collate;
  bool shuffle = true;              // false: blocks in order, no shuffle buffer (evaluation)
  int64_t streams = 64;             // V; must be >= world_size
  int64_t shuffle_buffer = 64;      // sessions per stream's shuffle buffer
  int64_t prefetch_batches = 4;     // queue depth of the background thread (0: no thread)
  uint64_t seed = 42;
  int rank = 0;
  int world_size = 1;
};

// Where a loader stands: the next batch it yields is batch `step` of `epoch`. The options
// that define the order come along, so that a state is never continued in another order.
struct LoaderState {
  int64_t epoch = 0;
  int64_t step = 0;
  uint64_t seed = 0;
  int64_t global_batch_size = 0;
  int64_t streams = 0;
  bool shuffle = true;
};

class Loader {
 public:
  Loader(const Dataset& dataset, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t batches_per_epoch() const;
  // The next batch of the current epoch; nullopt once the epoch is over, after which the
  // loader stands at step 0 of the next epoch.
  std::optional<Batch> next();
  LoaderState state() const;
  // Continues from a saved state; its seed, global batch size, streams and shuffle must be
  // this loader's (the rank count may differ).
  void restore(const LoaderState& state);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seqrec
