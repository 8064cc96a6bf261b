#include "seqrec/data/loader_shuffle_order.h"

#include <algorithm>

namespace seqrec {

ShuffleOrder::ShuffleOrder(int64_t count, int64_t capacity, uint64_t seed)
    : count_(count), fed_(std::min(count, capacity)), rng_(seed) {
  for (int64_t i = 0; i < fed_; ++i) waiting_.push_back(i);
}

int64_t ShuffleOrder::draw() {
  const size_t slot = rng_.uniform(waiting_.size());
  const int64_t drawn = waiting_[slot];
  if (fed_ < count_) {
    waiting_[slot] = fed_++;
  } else {
    waiting_[slot] = waiting_.back();
    waiting_.pop_back();
  }
  return drawn;
}

}  // namespace seqrec
