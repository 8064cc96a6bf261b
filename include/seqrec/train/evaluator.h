// Full-catalog evaluation of a model, and of the most-popular baseline, on a split.
//
// Collective: every rank scores its share of the split's sessions against the whole
// catalog (a sharded item table ranks them across ranks), and the metrics are summed
// over ranks, so every rank returns the same numbers, those one rank would compute.
//
// Besides the full-catalog ranking ("ndcg@10", ...): with sampled.negatives > 0 the
// sampled protocol, the target ranked among itself and that many negatives drawn per
// session (evaluation_negatives.h), as "sampled_ndcg@10", ...; and the metrics of the
// model's session tasks ("gender/auc", "age/rmse", ..., session_metrics.h), AUCs over
// the scores of all ranks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "seqrec/comm/communicator.h"
#include "seqrec/data/dataset.h"
#include "seqrec/model/ranking_metrics.h"
#include "seqrec/model/recommender.h"

namespace seqrec::train {

struct SampledProtocol {
  int64_t negatives = 0;              // 0: off
  std::string distribution = "uniform";  // uniform (over real items) | popularity (training-split counts)
  bool exclude_history = true;        // negatives are never items of the session (SASRec's protocol)
};

// UserError naming <prefix>sampled_negatives or <prefix>sampled_distribution (with the
// valid choices) for a negative count or an unknown distribution.
void check_sampled_protocol(const SampledProtocol& sampled, const std::string& prefix);

struct EvalOptions {
  std::string split = kSplitValid;
  int64_t batch_size = 256;      // global
  int64_t max_seq_len = 50;
  std::vector<int64_t> ks = {1, 5, 10, 20};
  bool exclude_history = false;  // never rank items already in the session above the target
  SampledProtocol sampled;
  uint64_t seed = 42;            // the run's: sampled negatives are keyed by it and the session
};

std::map<std::string, double> evaluate(model::Recommender& recommender, const Dataset& dataset,
                                       const EvalOptions& options, comm::Communicator& comm);

// Every session gets the same list: items by their count in the training split.
std::map<std::string, double> evaluate_popularity(const Dataset& dataset, const EvalOptions& options,
                                                  comm::Communicator& comm);

}  // namespace seqrec::train
