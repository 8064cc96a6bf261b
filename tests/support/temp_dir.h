// A scratch directory per test, removed with its contents afterwards.
#pragma once

#include <filesystem>
#include <string>

namespace seqrec::test {

class TempDir {
 public:
  TempDir();  // a fresh directory under the system's temporary directory
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Writes `content` to the file `name` inside the directory; returns its path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;
  // Names of the entries directly inside the directory, sorted.
  std::string listing() const;

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path);

}  // namespace seqrec::test
