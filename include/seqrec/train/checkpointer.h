// Checkpoints as the training loop sees them: resume at the start, a call at the end of
// every step, a final save.
//
// When: every `every_steps` steps, every `every_minutes` minutes (each rank's clock, the
// decision agreed by all-reduce), on SIGTERM/SIGUSR1 (then synchronously, and the loop
// stops), and at the end. How: each rank copies its state to host memory within the step
// (the time it took is logged) and writes its file into the step's staging directory, on
// a background thread when `async`; once every rank's write has finished (checked at each
// step end, agreed by all-reduce) and all succeeded, rank 0 commits (checkpoint_store.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "seqrec/comm/communicator.h"
#include "seqrec/train/checkpoint_store.h"
#include "seqrec/train/checkpoint_writer.h"
#include "seqrec/train/distributed_optimizer.h"
#include "seqrec/train/preemption_signal.h"
#include "seqrec/train/training_state.h"

namespace seqrec::train {

struct CheckpointOptions {
  std::string dir;              // empty: <train.run_dir>/ckpt
  int64_t every_steps = 0;      // 0: not by steps
  double every_minutes = 30;    // 0: not by time
  int64_t keep = 3;             // committed step directories kept
  bool async = true;            // write on a background thread while training goes on
  std::string resume = "auto";  // auto | never | PATH (a step directory or a checkpoint directory)
  std::string config;           // the run's configuration text, recorded in each manifest
};

class Checkpointer {
 public:
  Checkpointer(const CheckpointOptions& options, std::shared_ptr<comm::Communicator> comm, torch::nn::Module& model,
               DistributedOptimizer& optimizer);
  ~Checkpointer();

  // Removes unfinished saves, picks a checkpoint as options.resume says (rank 0, checksums
  // verified) and loads it on every rank. The torch generator takes this rank's saved
  // state, or, for a rank the saving run did not have, new_rank_seed. nullopt: nothing to
  // resume, the model and optimizer untouched.
  std::optional<TrainingState> resume(uint64_t new_rank_seed);

  // At the end of every step (every rank, `state` current). Returns true when the run must
  // stop now: a preemption signal reached some rank, and the state is saved.
  bool after_step(const TrainingState& state);
  // After the loop: saves `state` and waits until it is committed.
  void save_final(const TrainingState& state);

 private:
  void save(const TrainingState& state, bool synchronous);
  // Waits for the write in flight, agrees with the other ranks, commits or abandons.
  void finish_pending();

  CheckpointOptions options_;
  std::shared_ptr<comm::Communicator> comm_;
  torch::nn::Module& model_;
  DistributedOptimizer& optimizer_;
  CheckpointStore store_;
  CheckpointWriter writer_;
  PreemptionSignal signal_;
  CheckpointManifest pending_;            // of the write in flight (rank 0 fills the files)
  int64_t last_saved_step_ = -1;
  bool last_saved_finished_ = false;     // that save (or the resumed checkpoint) was the final one
  std::chrono::steady_clock::time_point last_save_time_;
};

}  // namespace seqrec::train
