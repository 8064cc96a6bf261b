#include "seqrec/core/log.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace seqrec::log {

namespace {

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value ? std::atoi(value) : fallback;
}

// Launchers announce the rank before any communicator exists; use it so that early lines
// (option errors, data checks) are attributed correctly too.
int launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"}) {
    if (std::getenv(name)) return env_int(name, 0);
  }
  return 0;
}

int launcher_world() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"}) {
    if (std::getenv(name)) return env_int(name, 1);
  }
  return 1;
}

struct State {
  int rank = launcher_rank();
  int world = launcher_world();
  Level level = Level::Info;
  std::mutex mutex;
};

State& state() {
  static State s;
  return s;
}

const char* level_tag(Level level) {
  switch (level) {
    case Level::Debug: return "debug ";
    case Level::Info: return "";
    case Level::Warn: return "warning: ";
    case Level::Error: return "error: ";
  }
  return "";
}

std::string clock_text() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &local);
  return text;
}

std::string format_seconds(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(text, sizeof text, "%02ld:%02ld", s / 60, s % 60);
  return text;
}

std::string prefix() {
  const State& s = state();
  return "[seqrec " + clock_text() + " r" + std::to_string(s.rank) + "/" + std::to_string(s.world) + "] ";
}

}  // namespace

void set_rank(int rank, int world_size) {
  state().rank = rank;
  state().world = world_size;
}

int rank() { return state().rank; }

void set_level(Level level) { state().level = level; }

Level parse_level(const std::string& name) {
  if (name == "debug") return Level::Debug;
  if (name == "info") return Level::Info;
  if (name == "warn") return Level::Warn;
  if (name == "error") return Level::Error;
  fail("--log-level: '", name, "' is not one of debug, info, warn, error");
}

void write(Level level, const std::string& message) {
  State& s = state();
  if (level < s.level) return;
  std::lock_guard<std::mutex> lock(s.mutex);
  std::fprintf(stderr, "%s%s%s\n", prefix().c_str(), level_tag(level), message.c_str());
  std::fflush(stderr);
}

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(state().rank == 0 && state().level <= Level::Info),
      terminal_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_render_(start_) {}

Progress::~Progress() {
  if (!finished_ && done_ > 0) finish();
}

void Progress::update(int64_t done, const std::string& extra) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  // A terminal redraws a few times a second; a log file gets a line every 10 seconds.
  const double every = terminal_ ? 0.2 : 10.0;
  if (std::chrono::duration<double>(now - last_render_).count() < every) return;
  last_render_ = now;
  render(false, extra);
}

void Progress::finish(const std::string& extra) {
  finished_ = true;
  if (enabled_) render(true, extra);
}

void Progress::render(bool final_line, const std::string& extra) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  char rate_text[64];
  std::snprintf(rate_text, sizeof rate_text, "%.1f %s/s", rate, unit_.c_str());

  std::string line = label_ + " ";
  if (total_ > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done_) / total_);
    if (terminal_) {
      const int width = 24;
      const int filled = static_cast<int>(fraction * width);
      line += "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    }
    line += std::to_string(done_) + "/" + std::to_string(total_) + " " + rate_text;
    if (!final_line && rate > 0) line += " eta " + format_seconds((total_ - done_) / rate);
  } else {
    line += std::to_string(done_) + " " + rate_text;
  }
  line += " elapsed " + format_seconds(elapsed);
  if (!extra.empty()) line += " " + extra;

  std::lock_guard<std::mutex> lock(state().mutex);
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s%s%s", prefix().c_str(), line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s%s\n", prefix().c_str(), line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace seqrec::log
