// A program started in the background, for tests that signal or kill it mid-run.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace seqrec::test {

class RunningProcess {
 public:
  // Starts argv[0] (looked up in PATH) with `extra_env` ("NAME=value") added to the
  // environment; stdout and stderr go to `log` (appended).
  RunningProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                 const std::filesystem::path& log);
  ~RunningProcess();  // kills and reaps it if still running
  RunningProcess(const RunningProcess&) = delete;
  RunningProcess& operator=(const RunningProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Its direct children (the ranks, for mpirun), as /proc lists them now.
  std::vector<pid_t> children() const;
  void signal(int signal) const;
  // Whether it has ended; reaps it then (exit_code() becomes valid).
  bool ended();
  // Waits for it; the exit code, or 128 + signal number.
  int wait();
  int exit_code() const { return exit_code_; }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

}  // namespace seqrec::test
