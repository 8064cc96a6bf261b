#include "seqrec/data/dataset.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "seqrec/core/checksum.h"
#include "seqrec/core/error.h"
#include "seqrec/data/shard.h"

namespace seqrec {

namespace fs = std::filesystem;
using nlohmann::json;

void Manifest::save(const fs::path& path) const {
  json j;
  j["format_version"] = format_version;
  j["schema_fingerprint"] = schema_fingerprint;
  j["block_sessions"] = block_sessions;
  j["shards"] = json::array();
  for (const auto& s : shards) {
    j["shards"].push_back({{"file", s.file}, {"split", s.split}, {"sessions", s.sessions},
                           {"events", s.events}, {"bytes", s.bytes}, {"crc32", s.crc32}});
  }
  j["source"] = source_json.empty() ? json::object() : json::parse(source_json);
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) fail("cannot write '", path.string(), "'");
}

Manifest Manifest::load(const fs::path& path) {
  std::ifstream in(path);
  if (!in) fail("cannot open manifest '", path.string(), "'");
  try {
    const json j = json::parse(in);
    Manifest m;
    m.format_version = j.at("format_version").get<int>();
    m.schema_fingerprint = j.at("schema_fingerprint").get<std::string>();
    m.block_sessions = j.at("block_sessions").get<int64_t>();
    for (const auto& s : j.at("shards")) {
      m.shards.push_back({s.at("file").get<std::string>(), s.at("split").get<std::string>(),
                          s.at("sessions").get<int64_t>(), s.at("events").get<int64_t>(),
                          s.at("bytes").get<int64_t>(), s.at("crc32").get<uint32_t>()});
    }
    m.source_json = j.value("source", json::object()).dump();
    return m;
  } catch (const json::exception& e) {
    fail(path.string(), ": malformed manifest: ", e.what());
  }
}

Dataset Dataset::open(const fs::path& dir, bool verify_checksums) {
  if (!fs::is_directory(dir)) fail("data set '", dir.string(), "' is not a directory");
  Dataset d;
  d.dir_ = dir;
  d.schema_ = Schema::load(dir / "schema.json");
  d.manifest_ = Manifest::load(dir / "manifest.json");
  const std::string where = (dir / "manifest.json").string();
  if (d.manifest_.format_version != kShardFormatVersion) {
    fail(where, ": format version ", d.manifest_.format_version, "; this seqrec reads version ", kShardFormatVersion);
  }
  if (d.manifest_.schema_fingerprint != d.schema_.fingerprint()) {
    fail(where, ": schema fingerprint ", d.manifest_.schema_fingerprint, " differs from schema.json's ",
         d.schema_.fingerprint());
  }
  if (d.manifest_.block_sessions < 1) fail(where, ": block_sessions must be positive");
  for (const auto& shard : d.manifest_.shards) {
    const fs::path path = d.path_of(shard);
    if (!fs::is_regular_file(path)) fail("shard '", path.string(), "' listed in ", where, " is missing");
    const auto bytes = static_cast<int64_t>(fs::file_size(path));
    if (bytes != shard.bytes) {
      fail("shard '", path.string(), "' has ", bytes, " bytes, the manifest records ", shard.bytes,
           " (truncated or replaced)");
    }
    if (verify_checksums && crc32_file(path) != shard.crc32) {
      fail("shard '", path.string(), "' fails its CRC-32 check (corrupt)");
    }
  }
  return d;
}

std::vector<ShardEntry> Dataset::shards(const std::string& split) const {
  std::vector<ShardEntry> out;
  for (const auto& s : manifest_.shards) if (s.split == split) out.push_back(s);
  return out;
}

int64_t Dataset::num_sessions(const std::string& split) const {
  int64_t n = 0;
  for (const auto& s : shards(split)) n += s.sessions;
  return n;
}

int64_t Dataset::num_events(const std::string& split) const {
  int64_t n = 0;
  for (const auto& s : shards(split)) n += s.events;
  return n;
}

}  // namespace seqrec
