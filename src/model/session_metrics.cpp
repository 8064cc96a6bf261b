#include "seqrec/model/session_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "seqrec/model/session_heads.h"

namespace seqrec::model {

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

double binary_auc(const torch::Tensor& scores, const torch::Tensor& labels) {
  const torch::Tensor s = scores.to(torch::kFloat64).contiguous();
  const torch::Tensor l = labels.to(torch::kFloat64).contiguous();
  const int64_t n = s.numel();
  const double* score = s.data_ptr<double>();
  const double* label = l.data_ptr<double>();
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score[a] < score[b]; });
  // Mann-Whitney: the positives' ranks (1-based, ties at their mean rank), summed.
  // Ranks are multiples of one half, so the sum is exact in any order of the input.
  double positives = 0, rank_sum = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j < n && score[order[j]] == score[order[i]]) ++j;
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (int64_t k = i; k < j; ++k) {
      if (label[order[k]] > 0.5) {
        positives += 1;
        rank_sum += mean_rank;
      }
    }
    i = j;
  }
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

bool lower_is_better(const std::string& metric) {
  return ends_with(metric, "/rmse") || ends_with(metric, "/mae") || ends_with(metric, "/log_loss");
}

SessionTaskMetrics::SessionTaskMetrics(SessionTask task) : task_(std::move(task)), sums_(3, 0.0) {}

void SessionTaskMetrics::add(const torch::Tensor& prediction, const torch::Tensor& values) {
  torch::NoGradGuard no_grad;
  const TaskTargets t = task_targets(task_, values);
  const torch::Tensor y = prediction.to(torch::kFloat64);
  torch::Tensor first, second;  // per session, before masking
  if (task_.kind == TaskKind::Regress) {
    const torch::Tensor error = y - values.to(torch::kFloat64);
    first = error.pow(2);
    second = error.abs();
  } else if (binary()) {
    const torch::Tensor label = t.target.to(torch::kFloat64);
    first = ((y > 0).to(torch::kFloat64) == label).to(torch::kFloat64);
    second = torch::binary_cross_entropy_with_logits(y, label, {}, {}, at::Reduction::None);
    const torch::Tensor known = t.known.nonzero().squeeze(1);
    scored_.push_back(torch::stack({y.index_select(0, known), label.index_select(0, known)}, 1));
  } else {
    first = (y.argmax(1) == t.target).to(torch::kFloat64);
    second = torch::cross_entropy_loss(y, t.target, {}, at::Reduction::None);
  }
  const torch::Tensor unknown = t.known.logical_not();
  sums_[0] += static_cast<double>(t.known.sum().item<int64_t>());
  sums_[1] += first.masked_fill(unknown, 0).sum().item<double>();
  sums_[2] += second.masked_fill(unknown, 0).sum().item<double>();
}

void SessionTaskMetrics::set_sums(const std::vector<double>& sums) {
  if (sums.size() != sums_.size()) throw std::logic_error("SessionTaskMetrics::set_sums: wrong size");
  sums_ = sums;
}

torch::Tensor SessionTaskMetrics::scored() const {
  if (scored_.empty()) return torch::zeros({0, 2}, torch::kFloat64);
  return torch::cat(scored_);
}

void SessionTaskMetrics::set_scored(const torch::Tensor& rows) { scored_ = {rows}; }

std::map<std::string, double> SessionTaskMetrics::results() const {
  const double n = sums_[0] > 0 ? sums_[0] : 1.0;
  const std::string prefix = task_.feature + "/";
  if (task_.kind == TaskKind::Regress) {
    return {{prefix + "rmse", std::sqrt(sums_[1] / n)}, {prefix + "mae", sums_[2] / n}};
  }
  std::map<std::string, double> out{{prefix + "accuracy", sums_[1] / n}, {prefix + "log_loss", sums_[2] / n}};
  if (binary()) {
    const torch::Tensor rows = scored();
    out[prefix + "auc"] = binary_auc(rows.select(1, 0), rows.select(1, 1));
  }
  return out;
}

}  // namespace seqrec::model
