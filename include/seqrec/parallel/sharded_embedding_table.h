// An embedding table split by rows across the ranks of a communicator.
//
// Row `id` lives on rank id mod N, as local row id div N, so rank r holds the ids
// r, r + N, r + 2N, ...: (rows - r + N - 1) / N rows, at most ceil(rows / N). The rows
// start as model::initial_rows of their global ids, so a table starts with the same rows
// whatever N, and gives what a model::LocalEmbeddingTable holding the same rows gives:
//
// - lookup: each rank sends the distinct ids of its batch to their owners and gets the
//   rows back (all-to-all); gradients travel back the same way to the owners.
// - the tied output layer (cross_entropy_sum, target_ranks, top_k, sample) is
//   vocab-parallel: the ranks gather every rank's positions, each scores them against its
//   own classes, and the per-position results are combined with all-reduces (or, for
//   top-k and sample, by merging every rank's best k, or best one).
//
// Every operation is collective (see model::EmbeddingTableImpl), and so are the BACKWARD
// passes of forward() and cross_entropy_sum(): every rank must run backward through
// them the same number of times and in the same order, each on its own share of the
// batch, however empty. The training loop guarantees this by calling backward on every
// rank's loss each step; the outputs of both always depend on the shard parameter, so
// with grad mode on every rank's output is part of its graph even for an empty batch. A
// rank that drops such an output from its loss, or skips backward, leaves the others
// waiting.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <utility>

#include "seqrec/comm/communicator.h"
#include "seqrec/model/embedding_table.h"

namespace seqrec::parallel {

class ShardedEmbeddingTableImpl : public model::EmbeddingTableImpl {
 public:
  // Registers this rank's rows as the parameter "shard" [local_rows, dim], on
  // comm->device().
  ShardedEmbeddingTableImpl(const model::TableSpec& spec, std::shared_ptr<comm::Communicator> comm);

  int64_t rows() const override { return rows_; }
  int64_t dim() const override { return shard_.size(1); }
  torch::Tensor forward(const torch::Tensor& ids) override;
  torch::Tensor cross_entropy_sum(const torch::Tensor& hidden, const torch::Tensor& labels, int64_t first,
                                  double label_smoothing) override;
  torch::Tensor target_ranks(const torch::Tensor& hidden, const torch::Tensor& targets, int64_t first,
                             const torch::Tensor& exclude) override;
  std::pair<torch::Tensor, torch::Tensor> top_k(const torch::Tensor& hidden, int64_t k, int64_t first,
                                                const torch::Tensor& exclude) override;
  torch::Tensor sample(const torch::Tensor& hidden, const torch::Tensor& keys, int64_t first, uint64_t seed) override;

  int64_t local_rows() const { return shard_.size(0); }
  // int64 [local_rows]: the global id of each local row, ascending.
  torch::Tensor global_ids() const;
  const torch::Tensor& shard() const { return shard_; }
  int owner(int64_t id) const { return static_cast<int>(id % comm_->size()); }

  // bool [local_rows]: the local rows that received gradient (through a lookup of their
  // id on any rank, or as classes of cross_entropy_sum) since the last call, which clears
  // the record. A row-wise sparse optimizer updates only these.
  torch::Tensor take_touched_rows();

 private:
  std::shared_ptr<comm::Communicator> comm_;
  int64_t rows_;
  torch::Tensor shard_;
  torch::Tensor touched_;  // marked in place by the backward passes
};
TORCH_MODULE(ShardedEmbeddingTable);

// Where the tables of a model live in a job of comm->size() ranks:
// - shard_threshold < 0: nowhere sharded, every table local (model::make_local_table);
// - otherwise the item table, and any table of more than shard_threshold rows, is a
//   ShardedEmbeddingTable, also with a single rank, so that one code path serves 1..N
//   ranks; smaller tables are local (replicated on every rank).
model::TableFactory sharded_table_factory(std::shared_ptr<comm::Communicator> comm, int64_t shard_threshold);

}  // namespace seqrec::parallel
