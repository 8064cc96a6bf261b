// Full-catalog ranking metrics for next-item prediction.
//
// Accumulates over batches: for each session, the rank of its target among all items
// (ties counted pessimistically: items scoring equal to the target rank above it), then
// NDCG, HR (= Recall with one target), MRR, MAP and Precision at each k.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace seqrec::model {

// 0-based rank of each target [B] among the columns of scores [B, V], ties counted
// against the target. exclude (optional, [B, L] ids, 0 = none): items already in the
// history are scored -inf unless they are the target.
torch::Tensor ranks_from_scores(torch::Tensor scores, const torch::Tensor& targets, const torch::Tensor& exclude = {});

// 0-based rank of column 0 (the target) among the columns of candidate scores [B, C],
// ties counted against it: the sampled protocol's rank.
torch::Tensor candidate_ranks(const torch::Tensor& scores);

class RankingMetrics {
 public:
  explicit RankingMetrics(std::vector<int64_t> ks = {1, 5, 10, 20});

  // scores [B, V], targets [B], exclude as for ranks_from_scores.
  void add(const torch::Tensor& scores, const torch::Tensor& targets, const torch::Tensor& exclude = {});
  // 0-based ranks of the targets [B], however they were computed.
  void add_ranks(const torch::Tensor& ranks);
  // The same with the target ranked among `sampled` items only ([B, S] ids), the
  // protocol of papers that sample 100 negatives.
  void add_sampled(const torch::Tensor& scores, const torch::Tensor& targets, const torch::Tensor& sampled);

  int64_t count() const { return count_; }
  // "ndcg@10" -> value, for every metric and k; sums combine across ranks before this.
  std::map<std::string, double> results() const;
  // Per-metric sums and the count, to be all-reduced across ranks.
  std::vector<double> sums() const;
  void set_sums(const std::vector<double>& sums);

 private:
  std::vector<int64_t> ks_;
  std::vector<double> sums_;  // per k: ndcg, hr, mrr, map, precision; then full mrr
  int64_t count_ = 0;
};

}  // namespace seqrec::model
