// A prepared data set directory: schema.json, manifest.json, vocabularies, shards.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "seqrec/data/schema.h"

namespace seqrec {

inline constexpr const char* kSplitTrain = "train";
inline constexpr const char* kSplitValid = "valid";
inline constexpr const char* kSplitTest = "test";

struct ShardEntry {
  std::string file;    // relative to the data set directory
  std::string split;
  int64_t sessions = 0;
  int64_t events = 0;
  int64_t bytes = 0;
  uint32_t crc32 = 0;
};

struct Manifest {
  int format_version = 0;
  std::string schema_fingerprint;
  int64_t block_sessions = 0;     // sessions per block: the loader's unit of reading
  std::vector<ShardEntry> shards;
  std::string source_json;        // how it was prepared (inputs, options), as JSON text

  void save(const std::filesystem::path& path) const;
  static Manifest load(const std::filesystem::path& path);
};

class Dataset {
 public:
  // Reads schema and manifest and checks that every shard file exists with the size the
  // manifest records; verify_checksums also recomputes each file's CRC-32.
  static Dataset open(const std::filesystem::path& dir, bool verify_checksums = false);

  const std::filesystem::path& dir() const { return dir_; }
  const Schema& schema() const { return schema_; }
  const Manifest& manifest() const { return manifest_; }
  std::vector<ShardEntry> shards(const std::string& split) const;
  int64_t num_sessions(const std::string& split) const;
  int64_t num_events(const std::string& split) const;
  std::filesystem::path path_of(const ShardEntry& shard) const { return dir_ / shard.file; }

 private:
  std::filesystem::path dir_;
  Schema schema_;
  Manifest manifest_;
};

}  // namespace seqrec
