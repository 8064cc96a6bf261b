// Stochastic shared embeddings (Wu et al., "Stochastic Shared Embeddings", NeurIPS 2019;
// the SSE of SSE-PT, RecSys 2020): in training, each real event's item is swapped, with
// some probability, for an item drawn uniformly from the catalog. Like dropout, but over
// whole embedding rows: a model cannot lean on one item's row alone.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace seqrec::model {

// What a recommender swaps in training: input items, and the session's user when the data
// set has a user-id feature (SSE-PT swaps both).
struct SwapOptions {
  double item_probability = 0;
  std::string user_feature;  // empty: none
  int64_t user_cardinality = 0;
  double user_probability = 0;
};

// ids and mask of any shape (items and slots [B, L], or users and sessions [B]), keys of
// that shape (slot_keys, or session ids) -> ids with the swaps made, each for an id drawn
// uniformly from the real ids below cardinality; reserved ids are kept. Draws keyed by
// (step seed, key), so any rank swaps alike.
torch::Tensor swap_ids(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& keys,
                       double probability, int64_t cardinality, uint64_t seed);

}  // namespace seqrec::model
