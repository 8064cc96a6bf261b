#include "seqrec/train/checkpoint_manifest.h"

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "seqrec/core/checksum.h"
#include "seqrec/core/error.h"
#include "seqrec/core/durable_file.h"

namespace seqrec::train {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifestName = "manifest.json";

}  // namespace

std::string checkpoint_rank_file(int rank) {
  std::ostringstream name;
  name << "rank-" << std::setw(5) << std::setfill('0') << rank << ".h5";
  return name.str();
}

void write_manifest(const fs::path& step_dir, const CheckpointManifest& m) {
  nlohmann::json tables = nlohmann::json::object();
  for (const auto& [name, layout] : m.sharded_tables) tables[name] = {{"rows", layout.rows}, {"dim", layout.dim}};
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : m.files) files.push_back({{"name", f.name}, {"bytes", f.bytes}, {"crc32", f.crc32}});
  const nlohmann::json j = {{"format", "seqrec-checkpoint"},
                            {"format_version", m.format_version},
                            {"step", m.step},
                            {"epoch", m.epoch},
                            {"world_size", m.world_size},
                            {"sharding", {{"rule", "global id mod world_size"}, {"tables", tables}}},
                            {"config", m.config},
                            {"files", files}};
  write_durably(step_dir / kManifestName, j.dump(2) + "\n");
}

CheckpointManifest read_manifest(const fs::path& step_dir) {
  const fs::path path = step_dir / kManifestName;
  std::ifstream in(path);
  if (!in) fail("checkpoint '", step_dir.string(), "': missing '", path.string(), "' (incomplete checkpoint)");
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    CheckpointManifest m;
    m.format_version = j.at("format_version").get<int64_t>();
    if (m.format_version != kCheckpointFormatVersion) {
      fail("'", path.string(), "': checkpoint format version ", m.format_version, " (this build reads ",
           kCheckpointFormatVersion, ")");
    }
    m.step = j.at("step").get<int64_t>();
    m.epoch = j.at("epoch").get<int64_t>();
    m.world_size = j.at("world_size").get<int>();
    for (const auto& [name, layout] : j.at("sharding").at("tables").items()) {
      m.sharded_tables[name] = {layout.at("rows").get<int64_t>(), layout.at("dim").get<int64_t>()};
    }
    m.config = j.at("config").get<std::string>();
    for (const auto& f : j.at("files")) {
      m.files.push_back({f.at("name").get<std::string>(), f.at("bytes").get<int64_t>(), f.at("crc32").get<uint32_t>()});
    }
    if (m.world_size < 1 || static_cast<int>(m.files.size()) != m.world_size) {
      fail("'", path.string(), "': lists ", m.files.size(), " files for ", m.world_size, " ranks");
    }
    return m;
  } catch (const nlohmann::json::exception& error) {
    fail("'", path.string(), "': malformed checkpoint manifest (", error.what(), ")");
  }
}

CheckpointManifest verify_checkpoint(const fs::path& step_dir) {
  const CheckpointManifest m = read_manifest(step_dir);
  for (const auto& f : m.files) {
    const fs::path path = step_dir / f.name;
    std::error_code error;
    const auto bytes = fs::file_size(path, error);
    if (error) fail("checkpoint file '", path.string(), "' is missing");
    if (static_cast<int64_t>(bytes) != f.bytes) {
      fail("checkpoint file '", path.string(), "' has ", bytes, " bytes, the manifest says ", f.bytes, " (truncated?)");
    }
    const uint32_t crc = crc32_file(path);
    if (crc != f.crc32) {
      fail("checkpoint file '", path.string(), "' is corrupt: CRC-32 ", crc, ", the manifest says ", f.crc32);
    }
  }
  return m;
}

}  // namespace seqrec::train
