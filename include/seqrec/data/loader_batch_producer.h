// This rank's batches, epoch after epoch (the loader's private part; see loader.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "seqrec/data/batch.h"
#include "seqrec/data/dataset.h"
#include "seqrec/data/loader.h"
#include "seqrec/data/loader_epoch_plan.h"
#include "seqrec/data/loader_session_stream.h"
#include "seqrec/data/loader_shard_readers.h"

namespace seqrec {

class BatchProducer {
 public:
  // Starts at batch `start.step` of epoch `start.epoch`. Options are checked by Loader.
  BatchProducer(const Dataset& dataset, const LoaderOptions& options, const LoaderState& start);

  // This rank's share of the next global batch; nullopt when the epoch is over, after
  // which it continues with the next epoch.
  std::optional<Batch> next();

 private:
  void begin_epoch(int64_t epoch, int64_t step);

  Dataset dataset_;
  LoaderOptions options_;
  ShardReaders readers_;
  SessionBlock empty_;  // a block with the split's columns
  std::vector<int64_t> shard_sessions_;
  int64_t num_sessions_ = 0;
  int64_t batches_per_epoch_ = 0;
  int64_t epoch_ = 0;
  int64_t step_ = 0;
  std::vector<SessionStream> streams_;  // the rank's own: stream rank + i * world_size
};

}  // namespace seqrec
