// Runs a BatchProducer ahead of the consumer (the loader's private part).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "seqrec/data/loader_batch_producer.h"

namespace seqrec {

// A background thread fills a queue of up to `depth` items from the producer.
class Prefetcher {
 public:
  Prefetcher(std::unique_ptr<BatchProducer> producer, int64_t depth);
  ~Prefetcher();  // stops the thread after the item it is producing
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // As BatchProducer::next, in the same order. Rethrows what the producer threw, after
  // which the prefetcher is spent.
  std::optional<Batch> next();

 private:
  struct Item {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  void run();

  std::unique_ptr<BatchProducer> producer_;
  size_t depth_;
  std::mutex mutex_;
  std::condition_variable changed_;  // the queue changed, or stopping_ was set
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace seqrec
