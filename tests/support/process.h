// Running a program as a test would from a shell, capturing what it prints.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace seqrec::test {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] with the arguments (no shell involved) and waits for it.
ProcessResult run_process(const std::vector<std::string>& argv);

// Runs the seqrec binary built with the tests.
ProcessResult run_seqrec(const std::vector<std::string>& args);

// A file of the public data sets (../shared/data beside the checkout, or $SEQREC_DATA_DIR).
std::filesystem::path shared_data(const std::string& relative);

}  // namespace seqrec::test
