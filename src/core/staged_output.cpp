#include "seqrec/core/staged_output.h"

#include <unistd.h>

#include <system_error>

#include "seqrec/core/error.h"

namespace seqrec {

namespace fs = std::filesystem;

StagedPath::StagedPath(fs::path final_path, bool overwrite)
    : final_(std::move(final_path)), overwrite_(overwrite) {
  if (final_.filename().empty()) final_ = final_.parent_path();
  if (fs::exists(final_) && !overwrite_) {
    fail("output '", final_.string(), "' already exists (pass --overwrite to replace it)");
  }
  const fs::path parent = final_.has_parent_path() ? final_.parent_path() : fs::path(".");
  if (!fs::is_directory(parent)) fail("output directory '", parent.string(), "' does not exist");
  temporary_ = parent / (final_.filename().string() + ".tmp-" + std::to_string(getpid()));
  std::error_code ignored;
  fs::remove_all(temporary_, ignored);
}

StagedPath::~StagedPath() {
  if (committed_) return;
  std::error_code ignored;
  fs::remove_all(temporary_, ignored);
}

void StagedPath::commit() {
  // With overwrite the old output is moved aside first, so a crash between the renames
  // leaves one of the two complete versions, never a mixture.
  fs::path old;
  if (fs::exists(final_)) {
    old = final_.parent_path() / (final_.filename().string() + ".old-" + std::to_string(getpid()));
    fs::rename(final_, old);
  }
  fs::rename(temporary_, final_);
  committed_ = true;
  if (!old.empty()) fs::remove_all(old);
}

}  // namespace seqrec
