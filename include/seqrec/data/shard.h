// One HDF5 shard file of sessions (layout in docs/FORMAT.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "seqrec/data/schema.h"
#include "seqrec/data/session_block.h"

namespace seqrec {

inline constexpr int kShardFormatVersion = 1;

struct ShardWriteOptions {
  int64_t block_sessions = 512;  // sessions per chunk of the per-session datasets
  int64_t chunk_events = 16384;  // events per chunk of the per-event datasets
  int compression_level = 4;     // deflate 0..9 (0: none); fletcher32 checksums always on
};

// Writes sessions appended block by block; close() finalises counts and attributes.
class ShardWriter {
 public:
  ShardWriter(const std::filesystem::path& path, const Schema& schema, const std::string& split,
              bool with_targets, ShardWriteOptions options = {});
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  void append(const SessionBlock& block);
  void close();
  int64_t num_sessions() const;
  int64_t num_events() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads blocks of sessions with one hyperslab read per dataset. Checks at open that the
// file is a seqrec shard of this format version and of the expected schema, and on each
// read that categorical ids lie within their cardinality; errors name file and dataset.
// Not thread-safe: use one reader per thread.
class ShardReader {
 public:
  ShardReader(const std::filesystem::path& path, const Schema& schema);
  ~ShardReader();
  ShardReader(ShardReader&&) noexcept;
  ShardReader& operator=(ShardReader&&) noexcept;

  int64_t num_sessions() const;
  int64_t num_events() const;
  bool has_targets() const;
  const std::string& split() const;
  // Sessions [begin, end); offsets in the result start at 0.
  SessionBlock read(int64_t begin, int64_t end) const;
  // Per-session lengths of [begin, end) from the offsets alone (no event data read).
  std::vector<int64_t> lengths(int64_t begin, int64_t end) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seqrec
