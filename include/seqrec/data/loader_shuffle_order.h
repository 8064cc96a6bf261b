// The order in which one stream yields its sessions, on indices alone.
//
// A buffer of up to `capacity` sessions is filled in stream order; each draw takes a
// uniformly random one out and refills its slot with the stream's next session. Keeping
// these decisions apart from the session data lets restore replay a saved position
// without reading anything, then read just the sessions left waiting in the buffer.
#pragma once

#include <cstdint>
#include <vector>

#include "seqrec/core/rng.h"

namespace seqrec {

class ShuffleOrder {
 public:
  // Indices 0..count-1; capacity 1 yields them in order.
  ShuffleOrder(int64_t count, int64_t capacity, uint64_t seed);

  bool exhausted() const { return waiting_.empty(); }
  // The next index; its slot is refilled with index fed() (which then grows by one)
  // while the stream has sessions left. Requires !exhausted().
  int64_t draw();
  int64_t fed() const { return fed_; }  // indices [0, fed) have entered the buffer
  const std::vector<int64_t>& waiting() const { return waiting_; }

 private:
  int64_t count_;
  int64_t fed_;
  std::vector<int64_t> waiting_;
  Rng rng_;
};

}  // namespace seqrec
