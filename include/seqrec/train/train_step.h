// One training step of a model spread over ranks, from each rank's share of the global
// batch to updated weights.
#pragma once

#include <cstdint>

#include "seqrec/comm/communicator.h"
#include "seqrec/data/batch.h"
#include "seqrec/model/recommender.h"
#include "seqrec/train/distributed_optimizer.h"

namespace seqrec::train {

struct StepOutcome {
  double loss = 0;       // mean over the labelled positions of all ranks
  int64_t labels = 0;    // labelled positions over all ranks
  bool skipped = false;  // the loss was not finite on some rank: nothing was updated
};

// Collective. `seed` is the step's (masks and negatives), the same on every rank.
StepOutcome train_step(model::RecommenderImpl& model, const Batch& share, uint64_t seed,
                       DistributedOptimizer& optimizer, comm::Communicator& comm);

}  // namespace seqrec::train
