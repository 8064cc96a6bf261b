// Wall-clock timing of training steps as the trainer runs them (loader -> train_step ->
// DistributedOptimizer), for `seqrec bench` and benchmarks/bench_train_step.
//
// Each step is timed with steady_clock from asking the loader for the batch to the
// optimizer's return, so a loader that cannot keep up shows (it prefetches in its own
// thread); a collective step takes as long as its slowest rank, so each step's time is
// the maximum over ranks. The run lies between two barriers.
#pragma once

#include <cstdint>
#include <vector>

#include "seqrec/comm/communicator.h"
#include "seqrec/core/autocast.h"
#include "seqrec/data/loader.h"
#include "seqrec/model/recommender.h"
#include "seqrec/train/distributed_optimizer.h"

namespace seqrec::train {

struct StepTiming {
  std::vector<double> step_ms;  // per step, slowest rank
  int64_t sessions = 0;         // of the global batches
  int64_t positions = 0;        // labelled positions (StepOutcome::labels)
  double seconds = 0;           // the whole run
  double mean_loss = 0;

  double mean_ms() const;
  double percentile_ms(double p) const;  // p in (0, 1]: nearest rank
};

// Collective. Steps first_step .. first_step + steps - 1 with the trainer's step seeds of
// `seed`; an epoch's end goes on into the next epoch.
StepTiming time_train_steps(model::RecommenderImpl& model, Loader& loader, DistributedOptimizer& optimizer,
                            comm::Communicator& comm, uint64_t seed, int64_t first_step, int64_t steps,
                            Precision precision);

// Collective. The loader alone: `steps` batches taken and dropped.
StepTiming time_loading(Loader& loader, comm::Communicator& comm, int64_t steps);

// The loader's next batch; at an epoch's end, the next epoch's first (every rank ends an
// epoch at the same step).
Batch next_batch_across_epochs(Loader& loader);

// Peak resident memory of this process so far, in MiB.
double peak_rss_mib();

}  // namespace seqrec::train
