// Full-catalog evaluation of a model, and of the most-popular baseline, on a split.
//
// Collective: every rank scores its share of the split's sessions against the whole
// catalog (a sharded item table ranks them across ranks), and the metrics are summed
// over ranks, so every rank returns the same numbers, those one rank would compute.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "seqrec/comm/communicator.h"
#include "seqrec/data/dataset.h"
#include "seqrec/model/ranking_metrics.h"
#include "seqrec/model/recommender.h"

namespace seqrec::train {

struct EvalOptions {
  std::string split = kSplitValid;
  int64_t batch_size = 256;      // global
  int64_t max_seq_len = 50;
  std::vector<int64_t> ks = {1, 5, 10, 20};
  bool exclude_history = false;  // never rank items already in the session above the target
};

std::map<std::string, double> evaluate(model::Recommender& recommender, const Dataset& dataset,
                                       const EvalOptions& options, comm::Communicator& comm);

// Every session gets the same list: items by their count in the training split.
std::map<std::string, double> evaluate_popularity(const Dataset& dataset, const EvalOptions& options,
                                                  comm::Communicator& comm);

}  // namespace seqrec::train
