// One stream of an epoch with its data (the loader's private part; see loader.h).
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "seqrec/data/loader_epoch_plan.h"
#include "seqrec/data/loader_shard_readers.h"
#include "seqrec/data/loader_shuffle_order.h"
#include "seqrec/data/session_block.h"

namespace seqrec {

// Yields a stream's sessions in the order of its ShuffleOrder. It reads one run (at most
// a block) at a time and copies the sessions entering the buffer into a store that is
// compacted as drawn ones pile up, so it holds one run plus about twice the buffer.
class SessionStream {
 public:
  // Positioned after `draws` draws: they are replayed on indices only, and the sessions
  // they leave waiting in the buffer are read at the next draw. `empty` is a block with
  // the split's columns.
  SessionStream(std::shared_ptr<const EpochPlan> plan, int64_t stream, int64_t buffer_capacity,
                const SessionBlock& empty, int64_t draws);

  // Appends the next session to `out`.
  void draw_into(SessionBlock& out, ShardReaders& readers);

 private:
  void read_waiting(ShardReaders& readers);
  void store(int64_t index, ShardReaders& readers);
  void compact();

  std::shared_ptr<const EpochPlan> plan_;
  int64_t stream_;
  ShuffleOrder order_;
  const SessionBlock empty_;
  bool waiting_read_ = false;
  SessionBlock run_;                             // the run read last
  int64_t run_first_ = 0;                        // its first session's index in the stream
  SessionBlock store_;                           // buffered sessions, and drawn ones until compaction
  std::unordered_map<int64_t, int64_t> row_of_;  // index waiting in the buffer -> row of store_
};

}  // namespace seqrec
