#include "seqrec/data/loader.h"

#include "seqrec/core/error.h"
#include "seqrec/data/loader_batch_producer.h"
#include "seqrec/data/loader_prefetcher.h"

namespace seqrec {

namespace {

void check_options(const Dataset& dataset, const LoaderOptions& o) {
  if (o.split != kSplitTrain && o.split != kSplitValid && o.split != kSplitTest) {
    fail("split: unknown split '", o.split, "' (expected ", kSplitTrain, ", ", kSplitValid, " or ", kSplitTest, ")");
  }
  if (dataset.num_sessions(o.split) == 0) {
    fail("split: data set '", dataset.dir().string(), "' has no sessions in split '", o.split, "'");
  }
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size) {
    fail("rank ", o.rank, " is outside a world of size ", o.world_size);
  }
  if (o.streams < o.world_size) {
    fail("streams (", o.streams, ") must be at least the world size (", o.world_size,
         "): each rank reads whole streams");
  }
  if (o.global_batch_size < o.world_size) {
    fail("global_batch_size (", o.global_batch_size, ") must be at least the world size (", o.world_size, ")");
  }
  if (o.shuffle && o.shuffle_buffer < 1) fail("shuffle_buffer must be at least 1 (got ", o.shuffle_buffer, ")");
  if (o.prefetch_batches < 0) fail("prefetch_batches must be 0 (no thread) or more (got ", o.prefetch_batches, ")");
  if (o.collate.max_seq_len < 1) fail("max_seq_len must be at least 1 (got ", o.collate.max_seq_len, ")");
}

}  // namespace

struct Loader::Impl {
  Impl(const Dataset& d, LoaderOptions o) : dataset(d), options(std::move(o)) {}

  Dataset dataset;
  LoaderOptions options;
  int64_t batches_per_epoch = 0;
  LoaderState state;  // what the consumer has taken, whatever the thread has produced
  // Started from `state` by the first next(), dropped by restore(); the prefetcher
  // when prefetch_batches > 0, else the producer itself.
  std::unique_ptr<Prefetcher> prefetcher;
  std::unique_ptr<BatchProducer> producer;

  std::optional<Batch> take() {
    if (options.prefetch_batches == 0) {
      if (!producer) producer = std::make_unique<BatchProducer>(dataset, options, state);
      return producer->next();
    }
    if (!prefetcher) {
      prefetcher = std::make_unique<Prefetcher>(std::make_unique<BatchProducer>(dataset, options, state),
                                                options.prefetch_batches);
    }
    return prefetcher->next();
  }
};

Loader::Loader(const Dataset& dataset, LoaderOptions options) : impl_(std::make_unique<Impl>(dataset, std::move(options))) {
  Impl& s = *impl_;
  check_options(s.dataset, s.options);
  const int64_t sessions = s.dataset.num_sessions(s.options.split);
  s.batches_per_epoch = (sessions + s.options.global_batch_size - 1) / s.options.global_batch_size;
  s.state.seed = s.options.seed;
  s.state.global_batch_size = s.options.global_batch_size;
  s.state.streams = s.options.streams;
  s.state.shuffle = s.options.shuffle;
}

Loader::~Loader() = default;

int64_t Loader::batches_per_epoch() const { return impl_->batches_per_epoch; }

std::optional<Batch> Loader::next() {
  Impl& s = *impl_;
  std::optional<Batch> batch;
  try {
    batch = s.take();
  } catch (...) {
    // A later call starts afresh from the state, rather than from a spent thread.
    s.prefetcher.reset();
    s.producer.reset();
    throw;
  }
  if (batch) {
    ++s.state.step;
  } else {
    ++s.state.epoch;
    s.state.step = 0;
  }
  return batch;
}

LoaderState Loader::state() const { return impl_->state; }

void Loader::restore(const LoaderState& state) {
  Impl& s = *impl_;
  if (state.seed != s.options.seed) {
    fail("seed: the loader state was saved with seed ", state.seed, " but this run's seed is ", s.options.seed);
  }
  if (state.epoch < 0 || state.step < 0 || state.step > s.batches_per_epoch) {
    fail("loader state: epoch ", state.epoch, " step ", state.step, " is outside 0..", s.batches_per_epoch,
         " batches per epoch (different data set or global_batch_size?)");
  }
  const LoaderState& mine = s.state;
  if (state.global_batch_size != mine.global_batch_size || state.streams != mine.streams ||
      state.shuffle != mine.shuffle) {
    fail("loader state: saved with global_batch_size ", state.global_batch_size, ", streams ", state.streams,
         ", shuffle ", state.shuffle, " but this run has ", mine.global_batch_size, ", ", mine.streams, ", ",
         mine.shuffle, ": the data order would differ");
  }
  s.prefetcher.reset();
  s.producer.reset();
  s.state = state;
}

}  // namespace seqrec
