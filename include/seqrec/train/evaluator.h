// Full-catalog evaluation of a model, and of the most-popular baseline, on a split.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "seqrec/data/dataset.h"
#include "seqrec/model/ranking_metrics.h"
#include "seqrec/model/recommender.h"

namespace seqrec::train {

struct EvalOptions {
  std::string split = kSplitValid;
  int64_t batch_size = 256;
  int64_t max_seq_len = 50;
  std::vector<int64_t> ks = {1, 5, 10, 20};
  bool exclude_history = false;  // score items already in the session -inf
};

std::map<std::string, double> evaluate(model::Recommender& recommender, const Dataset& dataset,
                                       const EvalOptions& options);

// Every session gets the same list: items by their count in the training split.
std::map<std::string, double> evaluate_popularity(const Dataset& dataset, const EvalOptions& options);

}  // namespace seqrec::train
