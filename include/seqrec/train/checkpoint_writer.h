// Writes one rank's snapshot as its checkpoint file, now or on a background thread.
//
// The file (rank-NNNNN.h5 in a staging directory) holds, under HDF5 paths:
//   /tables/<name>/ids, values, best_values, optimizer/<state>, optimizer_step_count
//   /dense/<name>/value, best_value, shape, adamw/{exp_avg, exp_avg_sq, step}   (rank 0)
//   /rng/torch_cpu
// and the file attributes format_version, rank, world_size, step, plus training_state
// (JSON, rank 0). It is flushed to the disk before its size and CRC-32 are reported.
#pragma once

#include <filesystem>
#include <future>
#include <optional>

#include "seqrec/train/checkpoint_manifest.h"
#include "seqrec/train/checkpoint_snapshot.h"

namespace seqrec::train {

CheckpointFile write_rank_file(const std::filesystem::path& dir, const RankSnapshot& snapshot);

// At most one write in flight.
class CheckpointWriter {
 public:
  ~CheckpointWriter();
  void start(std::filesystem::path dir, RankSnapshot snapshot);
  bool pending() const { return result_.valid(); }
  // Whether the pending write has ended (well or not); false when none is pending.
  bool finished() const;
  // Waits for the pending write: its file, or nullopt if it failed (logged).
  std::optional<CheckpointFile> wait();

 private:
  std::future<CheckpointFile> result_;
};

}  // namespace seqrec::train
