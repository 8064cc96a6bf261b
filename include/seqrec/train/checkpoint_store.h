// The checkpoint directory: one committed step directory per saved step, a `latest`
// file naming the newest, staging directories that are not checkpoints yet.
//
//   <dir>/step-000001200/       committed: manifest.json + rank-NNNNN.h5
//   <dir>/step-000001500.tmp/   being written (or left by a crash; removed at start)
//   <dir>/latest                "step-000001200\n", replaced atomically
//
// Commit order (rank 0, after every rank reported its file complete): manifest last into
// the staging directory, rename it to its final name, then rewrite `latest`, then drop
// all but the newest `keep` step directories. A crash at any point leaves the previous
// checkpoint, and `latest` naming a whole one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "seqrec/train/checkpoint_manifest.h"

namespace seqrec::train {

class CheckpointStore {
 public:
  CheckpointStore(std::filesystem::path dir, int64_t keep);

  const std::filesystem::path& dir() const { return dir_; }
  static std::string step_name(int64_t step);  // step-000001200
  std::filesystem::path staging_dir(int64_t step) const;
  std::filesystem::path step_dir(int64_t step) const;

  // Removes staging directories a crashed run left behind (rank 0, before any save).
  void remove_stale_staging() const;
  // An empty staging directory for `step` (an earlier attempt's is removed).
  void begin(int64_t step) const;
  // Writes the manifest into the staging directory, renames it, updates `latest`, prunes.
  void commit(const CheckpointManifest& manifest) const;
  // Drops a staging directory whose save failed on some rank.
  void abandon(int64_t step) const;

  // The step directory `latest` names, if the file exists (whole or not).
  std::optional<std::filesystem::path> latest() const;
  // Committed step directories, newest first.
  std::vector<std::filesystem::path> committed() const;

 private:
  std::filesystem::path dir_;
  int64_t keep_;
};

// The step directory to resume from under `resume`:
// - "never": none;
// - "auto": the one `latest` names if it verifies; else, with a warning naming the bad
//   file, the newest step directory that verifies; none if there is none;
// - a path (a step directory, or a checkpoint directory whose `latest` to take): it must
//   verify, else a UserError naming the bad file.
// Reads and checksums every file of the candidates: call on one rank and share the answer.
std::optional<std::filesystem::path> choose_checkpoint(const std::string& resume, const std::filesystem::path& dir);

}  // namespace seqrec::train
