// Rank-aware logging and progress.
//
// Every line carries the rank ("[seqrec 12:00:01 r1/4] ...") so interleaved output of
// many processes stays readable. Progress is shown on rank 0 only: a redrawn bar with
// rate and ETA when stderr is a terminal, a plain line every few seconds otherwise
// (log files of batch jobs).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "seqrec/core/error.h"

namespace seqrec::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

// Rank and world size shown on each line; read from the launcher's environment
// (Open MPI, PMI, Slurm) until the communicator sets them.
void set_rank(int rank, int world_size);
int rank();
void set_level(Level level);
Level parse_level(const std::string& name);  // debug|info|warn|error, else UserError

void write(Level level, const std::string& message);

template <typename... Parts> void debug(const Parts&... p) { write(Level::Debug, str_cat(p...)); }
template <typename... Parts> void info(const Parts&... p) { write(Level::Info, str_cat(p...)); }
template <typename... Parts> void warn(const Parts&... p) { write(Level::Warn, str_cat(p...)); }
template <typename... Parts> void error(const Parts&... p) { write(Level::Error, str_cat(p...)); }

class Progress {
 public:
  // total <= 0 means unknown: shows counts and rate without a bar or ETA.
  Progress(std::string label, int64_t total, std::string unit = "it");
  ~Progress();
  void update(int64_t done, const std::string& extra = "");
  void finish(const std::string& extra = "");

 private:
  void render(bool final_line, const std::string& extra);

  std::string label_;
  std::string unit_;
  int64_t total_;
  int64_t done_ = 0;
  bool enabled_;
  bool terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_render_;
};

}  // namespace seqrec::log
