// One training step of a model spread over ranks, from each rank's share of the global
// batch to updated weights.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "seqrec/comm/communicator.h"
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

// Collective. `seed` is the step's (masks and negatives), the same on every rank.
StepOutcome train_step(model::RecommenderImpl& model, const Batch& share, uint64_t seed,
                       DistributedOptimizer& optimizer, comm::Communicator& comm);

}  // namespace seqrec::train
