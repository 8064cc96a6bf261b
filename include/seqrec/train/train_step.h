// One training step of a model spread over ranks, from each rank's share of the global
// batch to updated weights.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "seqrec/comm/communicator.h"
#include "seqrec/core/autocast.h"
#include "seqrec/data/batch.h"
#include "seqrec/model/recommender.h"
#include "seqrec/train/distributed_optimizer.h"

namespace seqrec::train {

struct StepOutcome {
  double loss = 0;       // the weighted sum of the terms' means over all ranks (recommender.h)
  int64_t labels = 0;    // labelled positions (of the next-item term) over all ranks
  std::map<std::string, double> task_losses;  // session tasks' means over all ranks, unweighted
  bool skipped = false;  // the loss was not finite on some rank: nothing was updated
};

// The seed of step `step` of a run seeded with `run_seed`: its masks and negatives.
uint64_t step_seed(uint64_t run_seed, int64_t step);
// What torch's generator is seeded with on `rank` once the model is built: dropout draws
// differently on every rank.
uint64_t dropout_seed(uint64_t run_seed, int rank);

// Collective. `seed` is the step's (masks and negatives), the same on every rank; the
// forward pass runs in `precision` (mixed_precision.h), on comm.device() as the model does.
StepOutcome train_step(model::RecommenderImpl& model, const Batch& share, uint64_t seed,
                       DistributedOptimizer& optimizer, comm::Communicator& comm, Precision precision);

}  // namespace seqrec::train
