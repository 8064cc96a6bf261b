// manifest.json of a checkpoint step directory: what the step is, how it was sharded,
// the configuration that trained it, and each file's size and CRC-32. Written last, by
// rank 0, once every rank's file is complete: a step directory with a manifest whose
// files all check out is a whole checkpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace seqrec::train {

constexpr int64_t kCheckpointFormatVersion = 1;

struct CheckpointFile {
  std::string name;   // relative to the step directory
  int64_t bytes = 0;
  uint32_t crc32 = 0;
};

struct ShardedTableLayout {
  int64_t rows = 0;   // global rows; rank r of world_size held the ids r, r + world_size, ...
  int64_t dim = 0;
};

struct CheckpointManifest {
  int64_t format_version = kCheckpointFormatVersion;
  int64_t step = 0;
  int64_t epoch = 0;
  int world_size = 1;
  std::map<std::string, ShardedTableLayout> sharded_tables;  // by parameter name
  std::string config;                                      // the run's config.ini text
  std::vector<CheckpointFile> files;                       // rank-00000.h5, rank-00001.h5, ...
};

// The name of rank r's file: rank-00003.h5.
std::string checkpoint_rank_file(int rank);

// Writes <step_dir>/manifest.json via a temporary name, flushed to disk before the rename.
void write_manifest(const std::filesystem::path& step_dir, const CheckpointManifest& manifest);
// UserError naming the file if it is missing or malformed.
CheckpointManifest read_manifest(const std::filesystem::path& step_dir);
// Reads the manifest and checks every file's presence, size and CRC-32; UserError naming
// the first bad file.
CheckpointManifest verify_checkpoint(const std::filesystem::path& step_dir);

}  // namespace seqrec::train
