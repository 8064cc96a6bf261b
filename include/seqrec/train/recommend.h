// The k best next items for given sessions, by a model, over the whole catalog.
//
// Collective: every rank passes the same sessions; each scores its share of every batch
// (a sharded item table ranks across ranks) and rank 0 gathers the lists, so the result
// is what one rank alone would give.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "seqrec/comm/communicator.h"
#include "seqrec/data/session_block.h"
#include "seqrec/model/recommender.h"

namespace seqrec::train {

struct RecommendOptions {
  int64_t k = 10;                // at most the number of real items
  bool exclude_history = true;   // never recommend items among the events the model sees (its last max_seq_len)
  int64_t batch_size = 256;      // sessions per batch over all ranks
  int64_t max_seq_len = 50;      // the model's
};

struct Recommendations {
  torch::Tensor scores;  // [S, k] float32, best first; -inf where excluded items fill the list
  torch::Tensor ids;     // [S, k] int64 item ids; equal scores: lower id first
};

// On rank 0 the lists of all sessions in order; undefined tensors on the other ranks.
Recommendations recommend(model::RecommenderImpl& recommender, const SessionBlock& sessions, const Schema& schema,
                          const RecommendOptions& options, comm::Communicator& comm);

}  // namespace seqrec::train
