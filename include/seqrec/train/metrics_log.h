// metrics.jsonl: one JSON object per event (loss, evaluation), appended and flushed.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace seqrec::train {

class MetricsLog {
 public:
  explicit MetricsLog(const std::filesystem::path& path);
  // Writes {"event": event, "step": step, "epoch": epoch, ...values, "time_s": since start}.
  void write(const std::string& event, int64_t step, int64_t epoch, const std::map<std::string, double>& values);

 private:
  std::ofstream out_;
  std::filesystem::path path_;
  double start_;
};

// "ndcg@10 0.0412 hr@10 0.0735 ..." for the metrics people look at first.
std::string headline(const std::map<std::string, double>& metrics);

}  // namespace seqrec::train
