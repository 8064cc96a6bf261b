#include "seqrec/data/loader_session_stream.h"

#include <algorithm>
#include <vector>

namespace seqrec {

namespace {

// Rows of drawn sessions the store may hold beyond its live ones before it is compacted:
// keeps compaction rare for tiny buffers (1 when not shuffling).
constexpr int64_t kStoreSlack = 64;

}  // namespace

SessionStream::SessionStream(std::shared_ptr<const EpochPlan> plan, int64_t stream, int64_t buffer_capacity,
                             const SessionBlock& empty, int64_t draws)
    : plan_(std::move(plan)),
      stream_(stream),
      order_(plan_->stream_size(stream), buffer_capacity, plan_->stream_seed(stream)),
      empty_(empty),
      run_(empty),
      store_(empty) {
  for (int64_t i = 0; i < draws; ++i) order_.draw();
}

void SessionStream::draw_into(SessionBlock& out, ShardReaders& readers) {
  if (!waiting_read_) read_waiting(readers);
  const int64_t next_fed = order_.fed();
  const auto drawn = row_of_.find(order_.draw());
  out.append_session(store_, drawn->second);
  row_of_.erase(drawn);
  if (order_.fed() > next_fed) store(next_fed, readers);
  if (store_.num_sessions() > 2 * static_cast<int64_t>(row_of_.size()) + kStoreSlack) compact();
}

// In index order, so that sessions of one run are read together.
void SessionStream::read_waiting(ShardReaders& readers) {
  std::vector<int64_t> waiting = order_.waiting();
  std::sort(waiting.begin(), waiting.end());
  for (int64_t index : waiting) store(index, readers);
  waiting_read_ = true;
}

void SessionStream::store(int64_t index, ShardReaders& readers) {
  if (index < run_first_ || index >= run_first_ + run_.num_sessions()) {
    run_ = readers.read(plan_->run_from(stream_, index));
    run_first_ = index;
  }
  row_of_[index] = store_.num_sessions();
  store_.append_session(run_, index - run_first_);
}

void SessionStream::compact() {
  SessionBlock compacted = empty_;
  for (auto& [index, row] : row_of_) {
    const int64_t new_row = compacted.num_sessions();
    compacted.append_session(store_, row);
    row = new_row;
  }
  store_ = std::move(compacted);
}

}  // namespace seqrec
