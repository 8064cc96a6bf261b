// The tied output layer over a row-sharded table, vocab-parallel: every rank gathers the
// positions of all ranks, scores them against its own classes, and the ranks combine the
// per-position results; each rank keeps the rows of its own positions.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "seqrec/comm/communicator.h"
#include "shard_link.h"

namespace seqrec::parallel::detail {

// Sum of softmax cross-entropy over this rank's positions (see
// model::EmbeddingTableImpl::cross_entropy_sum). Collective, and so is its backward.
torch::Tensor vocab_parallel_cross_entropy(const torch::Tensor& shard, const torch::Tensor& hidden,
                                           const torch::Tensor& labels, int64_t first, double label_smoothing,
                                           const c10::intrusive_ptr<ShardLink>& link);

torch::Tensor vocab_parallel_target_ranks(comm::Communicator& comm, const torch::Tensor& shard, int64_t rows,
                                          const torch::Tensor& hidden, const torch::Tensor& targets, int64_t first,
                                          const torch::Tensor& exclude);

std::pair<torch::Tensor, torch::Tensor> vocab_parallel_top_k(comm::Communicator& comm, const torch::Tensor& shard,
                                                             int64_t rows, const torch::Tensor& hidden, int64_t k,
                                                             int64_t first, const torch::Tensor& exclude);

// One class per position drawn by keyed Gumbel-max (see model::EmbeddingTableImpl::sample):
// each rank takes the best of its own classes for every rank's positions, and the best of
// the ranks' bests wins.
torch::Tensor vocab_parallel_sample(comm::Communicator& comm, const torch::Tensor& shard, int64_t rows,
                                    const torch::Tensor& hidden, const torch::Tensor& keys, int64_t first,
                                    uint64_t seed);

// ---- shared by the four ----

// How the positions of all ranks line up once gathered, rank 0's first.
struct Positions {
  std::vector<int64_t> counts;  // per rank
  int64_t offset = 0;           // of this rank's first
  int64_t total = 0;

  int64_t own(int rank) const { return counts[static_cast<size_t>(rank)]; }
};

// For each value of `mine` (of one length on every rank): its value on each rank, rank
// 0's first.
std::vector<std::vector<int64_t>> all_sizes(comm::Communicator& comm, const std::vector<int64_t>& mine);

Positions positions(int rank, std::vector<int64_t> counts);

// Every rank's rows [counts[r], ...] (the trailing sizes equal), rank 0's first: padded to
// the largest count for all_gather, then stripped.
torch::Tensor gather_rows(comm::Communicator& comm, const torch::Tensor& mine, const Positions& positions);

// This rank's classes of [first, rows): its local rows from `begin` on. Class j is local
// row begin + j, global id rank + (begin + j) * size.
struct LocalClasses {
  torch::Tensor weight;  // [count, dim], a view of the shard
  int64_t begin = 0;
  int rank = 0;
  int size = 1;

  int64_t count() const { return weight.size(0); }
  // int64 [end - start]: the global ids of classes [start, end).
  torch::Tensor ids(int64_t start, int64_t end) const;
  // For global ids of any shape: whether each is one of classes [start, end), and its
  // column there (0 where it is not).
  std::pair<torch::Tensor, torch::Tensor> find(const torch::Tensor& ids, int64_t start, int64_t end) const;
  // [positions, end - start] scores of classes [start, end), the `exclude` ids [positions,
  // L] among them (kPaddingId entries ignored) set to -inf.
  torch::Tensor excluded(torch::Tensor scores, const torch::Tensor& exclude, int64_t start, int64_t end) const;
};

LocalClasses local_classes(const torch::Tensor& shard, int64_t first, int rank, int size);

// The [positions, classes] score matrix is visited in blocks of at most this many
// positions and classes, which bounds memory on large batches and catalogs.
inline constexpr int64_t kPositionChunk = 4096;
inline constexpr int64_t kClassChunk = 8192;

struct Block {
  int64_t p0, p1;  // positions [p0, p1)
  int64_t c0, c1;  // classes [c0, c1)
};

template <typename Visit>
void for_each_block(int64_t positions, int64_t classes, Visit&& visit) {
  for (int64_t p0 = 0; p0 < positions; p0 += kPositionChunk) {
    for (int64_t c0 = 0; c0 < classes; c0 += kClassChunk) {
      visit(Block{p0, std::min(positions, p0 + kPositionChunk), c0, std::min(classes, c0 + kClassChunk)});
    }
  }
}

}  // namespace seqrec::parallel::detail
