// Writes that survive a crash of the process or the machine once they return: data is
// flushed to the disk (fsync) before a rename makes it visible, and the rename itself is
// flushed with its directory.
#pragma once

#include <filesystem>
#include <string>

namespace seqrec {

// Flushes a written file's data to the disk; UserError naming it on failure.
void sync_file(const std::filesystem::path& path);
// Flushes a directory's entries (renames, new files) to the disk.
void sync_directory(const std::filesystem::path& dir);
// Writes `content` to <path>.tmp, syncs it, renames it onto `path` and syncs the
// directory: readers see the old file or the new one, whole.
void write_durably(const std::filesystem::path& path, const std::string& content);

}  // namespace seqrec
