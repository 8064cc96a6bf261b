#include "seqrec/data/dataset_writer.h"

#include <cstdio>

#include "seqrec/core/checksum.h"
#include "seqrec/core/error.h"

namespace seqrec {

namespace fs = std::filesystem;

DatasetWriter::DatasetWriter(fs::path dir, Schema schema, ShardWriteOptions options)
    : dir_(std::move(dir)), schema_(std::move(schema)), options_(options) {
  fs::create_directories(dir_);
}

void DatasetWriter::write_split(const std::string& split, const SessionBlock& sessions, int num_shards) {
  if (num_shards < 1) fail("number of shards must be at least 1 (got ", num_shards, ")");
  const int64_t total = sessions.num_sessions();
  for (int shard = 0; shard < num_shards; ++shard) {
    char name[64];
    std::snprintf(name, sizeof name, "%s-%05d.h5", split.c_str(), shard);
    const int64_t begin = total * shard / num_shards;
    const int64_t end = total * (shard + 1) / num_shards;

    ShardWriter writer(dir_ / name, schema_, split, sessions.has_targets(), options_);
    // Appending a block of sessions at a time bounds the copy made for each append.
    for (int64_t b = begin; b < end; b += options_.block_sessions) {
      SessionBlock block = SessionBlock::empty(schema_, sessions.has_targets());
      for (int64_t s = b; s < std::min(end, b + options_.block_sessions); ++s) block.append_session(sessions, s);
      writer.append(block);
    }
    writer.close();
    shards_.push_back({name, split, end - begin, sessions.offsets[end] - sessions.offsets[begin], 0, 0});
  }
}

void DatasetWriter::finish(const std::string& source_json) {
  Manifest manifest;
  manifest.format_version = kShardFormatVersion;
  manifest.schema_fingerprint = schema_.fingerprint();
  manifest.block_sessions = options_.block_sessions;
  manifest.source_json = source_json;
  for (auto& shard : shards_) {
    shard.bytes = static_cast<int64_t>(fs::file_size(dir_ / shard.file));
    shard.crc32 = crc32_file(dir_ / shard.file);
    manifest.shards.push_back(shard);
  }
  schema_.save(dir_ / "schema.json");
  // The manifest comes last: a directory without one is recognisably incomplete.
  manifest.save(dir_ / "manifest.json");
}

}  // namespace seqrec
