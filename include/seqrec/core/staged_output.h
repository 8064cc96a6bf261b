// Output that appears whole or not at all.
//
// A StagedPath hands out a temporary sibling path ("out.tmp-<pid>") to write into;
// commit() renames it onto the final path. Destroyed without commit (an exception, a
// bad row), it removes the temporary: a failed command leaves nothing half-written.
#pragma once

#include <filesystem>

namespace seqrec {

class StagedPath {
 public:
  // overwrite=false: a final path that already exists is an error (raised here, before
  // any work is done).
  StagedPath(std::filesystem::path final_path, bool overwrite);
  ~StagedPath();
  StagedPath(const StagedPath&) = delete;
  StagedPath& operator=(const StagedPath&) = delete;

  const std::filesystem::path& temporary() const { return temporary_; }
  const std::filesystem::path& final_path() const { return final_; }
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path temporary_;
  bool overwrite_;
  bool committed_ = false;
};

}  // namespace seqrec
