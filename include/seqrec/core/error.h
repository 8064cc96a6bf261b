// Errors and exit codes.
//
// A UserError is something the user can fix: a bad option, a malformed input file, a
// corrupt shard. The command line prints its message as one line and exits with
// kExitUsage. Anything else escaping a command is a bug or an environment failure.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace seqrec {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,         // internal error, I/O failure of the machine
  kExitUsage = 2,           // bad option, bad input file, command not implemented
  kExitPreempted = 3,       // train: stopped by SIGTERM/SIGUSR1 after saving a checkpoint; rerun to resume
};

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates its arguments with operator<<: str_cat("line ", 3, ": bad") == "line 3: bad".
template <typename... Parts>
std::string str_cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw UserError(str_cat(parts...));
}

}  // namespace seqrec
