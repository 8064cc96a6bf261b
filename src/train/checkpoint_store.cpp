#include "seqrec/train/checkpoint_store.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "seqrec/core/durable_file.h"
#include "seqrec/core/error.h"
#include "seqrec/core/log.h"

namespace seqrec::train {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLatestName = "latest";
constexpr const char* kStagingSuffix = ".tmp";
constexpr const char* kStepPrefix = "step-";

// The step of a committed directory name "step-000001200"; nullopt for anything else.
std::optional<int64_t> step_of(const std::string& name) {
  const std::string prefix = kStepPrefix;
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const std::string digits = name.substr(prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  return std::stoll(digits);
}

bool is_staging(const std::string& name) {
  const std::string suffix = kStagingSuffix;
  return name.rfind(kStepPrefix, 0) == 0 && name.size() > suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The step directory a `latest` file names; nullopt when absent.
std::optional<fs::path> read_latest(const fs::path& dir) {
  std::ifstream in(dir / kLatestName);
  if (!in) return std::nullopt;
  std::string name;
  std::getline(in, name);
  if (!step_of(name)) fail("'", (dir / kLatestName).string(), "' does not name a step directory (got '", name, "')");
  return dir / name;
}

}  // namespace

CheckpointStore::CheckpointStore(fs::path dir, int64_t keep) : dir_(std::move(dir)), keep_(keep) {
  if (keep_ < 1) fail("checkpoint.keep must be at least 1 (got ", keep_, ")");
}

std::string CheckpointStore::step_name(int64_t step) {
  std::ostringstream name;
  name << kStepPrefix << std::setw(9) << std::setfill('0') << step;
  return name.str();
}

fs::path CheckpointStore::staging_dir(int64_t step) const { return dir_ / (step_name(step) + kStagingSuffix); }

fs::path CheckpointStore::step_dir(int64_t step) const { return dir_ / step_name(step); }

void CheckpointStore::remove_stale_staging() const {
  if (!fs::is_directory(dir_)) return;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.is_directory() && is_staging(entry.path().filename().string())) {
      log::info("removing the unfinished checkpoint '", entry.path().string(), "'");
      fs::remove_all(entry.path());
    }
  }
}

void CheckpointStore::begin(int64_t step) const {
  fs::create_directories(dir_);
  fs::remove_all(staging_dir(step));
  fs::create_directories(staging_dir(step));
}

void CheckpointStore::commit(const CheckpointManifest& manifest) const {
  const fs::path staging = staging_dir(manifest.step);
  const fs::path final_dir = step_dir(manifest.step);
  write_manifest(staging, manifest);
  sync_directory(staging);
  // A run resumed from an older checkpoint saves again the steps it had saved before.
  if (fs::exists(final_dir)) fs::remove_all(final_dir);
  fs::rename(staging, final_dir);
  sync_directory(dir_);
  write_durably(dir_ / kLatestName, step_name(manifest.step) + "\n");
  const std::vector<fs::path> steps = committed();
  for (size_t i = static_cast<size_t>(keep_); i < steps.size(); ++i) fs::remove_all(steps[i]);
}

void CheckpointStore::abandon(int64_t step) const { fs::remove_all(staging_dir(step)); }

std::optional<fs::path> CheckpointStore::latest() const { return read_latest(dir_); }

std::vector<fs::path> CheckpointStore::committed() const {
  std::vector<std::pair<int64_t, fs::path>> steps;
  if (fs::is_directory(dir_)) {
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const auto step = step_of(entry.path().filename().string());
      if (entry.is_directory() && step) steps.emplace_back(*step, entry.path());
    }
  }
  std::sort(steps.rbegin(), steps.rend());
  std::vector<fs::path> out;
  for (auto& s : steps) out.push_back(std::move(s.second));
  return out;
}

std::optional<fs::path> choose_checkpoint(const std::string& resume, const fs::path& dir) {
  if (resume == "never") return std::nullopt;
  if (resume != "auto") {
    fs::path path(resume);
    if (!fs::exists(path)) fail("--resume: '", path.string(), "' does not exist");
    if (!fs::exists(path / "manifest.json") && fs::exists(path / kLatestName)) path = *read_latest(path);
    verify_checkpoint(path);
    return path;
  }
  std::optional<fs::path> named;
  try {
    named = read_latest(dir);
  } catch (const UserError& error) {
    log::warn(error.what());
  }
  if (named) {
    try {
      verify_checkpoint(*named);
      return named;
    } catch (const UserError& error) {
      log::warn("the latest checkpoint is unusable: ", error.what(), "; falling back to an older one");
    }
  }
  for (const fs::path& candidate : CheckpointStore(dir, 1).committed()) {
    if (named && candidate == *named) continue;
    try {
      verify_checkpoint(candidate);
      if (named || fs::exists(dir / kLatestName)) log::warn("resuming from '", candidate.string(), "' instead");
      return candidate;
    } catch (const UserError& error) {
      log::warn("skipping an unusable checkpoint: ", error.what());
    }
  }
  return std::nullopt;
}

}  // namespace seqrec::train
