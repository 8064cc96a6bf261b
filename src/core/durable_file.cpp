#include "seqrec/core/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "seqrec/core/error.h"

namespace seqrec {

namespace fs = std::filesystem;

namespace {

void sync_path(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) fail("cannot open '", path.string(), "' to flush it to disk");
  const int synced = ::fsync(fd);
  ::close(fd);
  if (synced != 0) fail("cannot flush '", path.string(), "' to disk");
}

}  // namespace

void sync_file(const fs::path& path) { sync_path(path, O_RDONLY); }

void sync_directory(const fs::path& dir) { sync_path(dir.empty() ? fs::path(".") : dir, O_RDONLY | O_DIRECTORY); }

void write_durably(const fs::path& path, const std::string& content) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) fail("cannot write '", temporary.string(), "' (disk full?)");
  }
  sync_file(temporary);
  fs::rename(temporary, path);
  sync_directory(path.parent_path());
}

}  // namespace seqrec
