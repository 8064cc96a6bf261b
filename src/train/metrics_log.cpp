#include "seqrec/train/metrics_log.h"

#include <chrono>
#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "seqrec/core/error.h"

namespace seqrec::train {

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

MetricsLog::MetricsLog(const std::filesystem::path& path) : out_(path, std::ios::app), path_(path), start_(now_seconds()) {
  if (!out_) fail("cannot write metrics log '", path.string(), "'");
}

void MetricsLog::write(const std::string& event, int64_t step, int64_t epoch, const std::map<std::string, double>& values) {
  nlohmann::json line = {{"event", event}, {"step", step}, {"epoch", epoch}};
  for (const auto& [name, value] : values) line[name] = value;
  line["time_s"] = now_seconds() - start_;
  out_ << line.dump() << "\n";
  out_.flush();
  if (!out_) fail("cannot write metrics log '", path_.string(), "'");
}

std::string headline(const std::map<std::string, double>& metrics) {
  std::vector<std::string> names{"ndcg@10", "hr@10", "ndcg@20", "hr@20", "mrr", "sampled_ndcg@10", "sampled_hr@10"};
  // Session tasks' metrics ("gender/auc") are few and all of interest.
  for (const auto& entry : metrics) {
    if (entry.first.find('/') != std::string::npos) names.push_back(entry.first);
  }
  std::string out;
  for (const std::string& name : names) {
    auto it = metrics.find(name);
    if (it == metrics.end()) continue;
    char text[96];
    std::snprintf(text, sizeof text, "%s%s %.4f", out.empty() ? "" : "  ", name.c_str(), it->second);
    out += text;
  }
  return out;
}

}  // namespace seqrec::train
