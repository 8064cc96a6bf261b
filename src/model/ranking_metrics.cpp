#include "seqrec/model/ranking_metrics.h"

#include <cmath>
#include <limits>

#include "seqrec/core/error.h"

namespace seqrec::model {

namespace {

// Per k, in this order; the full-list MRR follows all of them.
const char* kNames[] = {"ndcg", "hr", "mrr", "map", "precision"};
constexpr size_t kPerK = 5;

// 0-based rank of each target among the columns of `scores`. Ties count against the
// target: a model that scores everything equal ranks it last, not first.
torch::Tensor pessimistic_ranks(const torch::Tensor& scores, const torch::Tensor& target_scores) {
  const torch::Tensor t = target_scores.unsqueeze(1);
  return (scores > t).sum(1) + (scores == t).sum(1) - 1;
}

}  // namespace

RankingMetrics::RankingMetrics(std::vector<int64_t> ks) : ks_(std::move(ks)), sums_(ks_.size() * kPerK + 1, 0.0) {
  for (int64_t k : ks_) {
    if (k < 1) fail("metrics: cut-off k must be at least 1 (got ", k, ")");
  }
}

torch::Tensor ranks_from_scores(torch::Tensor scores, const torch::Tensor& targets, const torch::Tensor& exclude) {
  torch::NoGradGuard no_grad;
  scores = scores.to(torch::kFloat32);
  const torch::Tensor target_ids = targets.to(torch::kLong).unsqueeze(1);
  const torch::Tensor target_scores = scores.gather(1, target_ids).squeeze(1);
  if (exclude.defined() && exclude.numel() > 0) {
    scores = scores.clone();
    scores.scatter_(1, exclude.to(torch::kLong), -std::numeric_limits<float>::infinity());
    scores.scatter_(1, target_ids, target_scores.unsqueeze(1));
  }
  return pessimistic_ranks(scores, target_scores);
}

void RankingMetrics::add(const torch::Tensor& scores, const torch::Tensor& targets, const torch::Tensor& exclude) {
  add_ranks(ranks_from_scores(scores, targets, exclude));
}

torch::Tensor candidate_ranks(const torch::Tensor& scores) {
  torch::NoGradGuard no_grad;
  const torch::Tensor s = scores.to(torch::kFloat32);
  return pessimistic_ranks(s, s.select(1, 0));
}

void RankingMetrics::add_sampled(const torch::Tensor& scores, const torch::Tensor& targets, const torch::Tensor& sampled) {
  torch::NoGradGuard no_grad;
  const torch::Tensor candidates = torch::cat({targets.to(torch::kLong).unsqueeze(1), sampled.to(torch::kLong)}, 1);
  add_ranks(candidate_ranks(scores.gather(1, candidates)));
}

void RankingMetrics::add_ranks(const torch::Tensor& ranks) {
  const torch::Tensor r = ranks.to(torch::kFloat64);
  const torch::Tensor reciprocal = 1.0 / (r + 1.0);
  const torch::Tensor gain = 1.0 / torch::log2(r + 2.0);
  for (size_t i = 0; i < ks_.size(); ++i) {
    const torch::Tensor hit = (r < static_cast<double>(ks_[i])).to(torch::kFloat64);
    double* s = &sums_[i * kPerK];
    s[0] += (gain * hit).sum().item<double>();
    s[1] += hit.sum().item<double>();
    s[2] += (reciprocal * hit).sum().item<double>();
    s[3] += (reciprocal * hit).sum().item<double>();  // one relevant item: AP@k = 1/rank within k
    s[4] += hit.sum().item<double>() / static_cast<double>(ks_[i]);
  }
  sums_.back() += reciprocal.sum().item<double>();
  count_ += ranks.size(0);
}

std::map<std::string, double> RankingMetrics::results() const {
  std::map<std::string, double> out;
  const double n = count_ > 0 ? static_cast<double>(count_) : 1.0;
  for (size_t i = 0; i < ks_.size(); ++i) {
    for (size_t m = 0; m < kPerK; ++m) {
      out[std::string(kNames[m]) + "@" + std::to_string(ks_[i])] = sums_[i * kPerK + m] / n;
    }
  }
  out["mrr"] = sums_.back() / n;
  return out;
}

std::vector<double> RankingMetrics::sums() const {
  std::vector<double> out = sums_;
  out.push_back(static_cast<double>(count_));
  return out;
}

void RankingMetrics::set_sums(const std::vector<double>& sums) {
  if (sums.size() != sums_.size() + 1) throw std::logic_error("RankingMetrics::set_sums: wrong size");
  std::copy(sums.begin(), sums.end() - 1, sums_.begin());
  count_ = static_cast<int64_t>(sums.back());
}

}  // namespace seqrec::model
