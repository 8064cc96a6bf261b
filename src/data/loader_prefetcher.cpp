#include "seqrec/data/loader_prefetcher.h"

namespace seqrec {

Prefetcher::Prefetcher(std::unique_ptr<BatchProducer> producer, int64_t depth)
    : producer_(std::move(producer)), depth_(static_cast<size_t>(depth)), thread_([this] { run(); }) {}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Prefetcher::run() {
  for (;;) {
    Item item;
    try {
      item.batch = producer_->next();
    } catch (...) {
      item.error = std::current_exception();
    }
    const bool failed = item.error != nullptr;
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return stopping_ || queue_.size() < depth_; });
    if (stopping_) return;
    queue_.push_back(std::move(item));
    changed_.notify_all();
    if (failed) return;
  }
}

std::optional<Batch> Prefetcher::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !queue_.empty(); });
  Item item = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  changed_.notify_all();
  if (item.error) std::rethrow_exception(item.error);
  return std::move(item.batch);
}

}  // namespace seqrec
