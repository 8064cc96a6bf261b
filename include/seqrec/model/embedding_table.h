// A table of learned vectors, one row per id: the embeddings of a categorical feature,
// and for the item feature also the model's output layer (tied weights).
//
// The model reaches its tables only through this interface, so a table may live whole in
// this process (LocalEmbeddingTable) or be split by rows across ranks
// (parallel::ShardedEmbeddingTable). Every operation is a function of the rows it reads,
// however they are stored: a sharded table gives what a local table holding the same rows
// gives. On a sharded table every operation is collective: all ranks call it, in the same
// order, each with its own share of the batch (possibly empty, N = 0 or B = 0).
//
// Rows start from N(0, init_std) draws that depend only on (seed, id), so a table starts
// with the same rows however many ranks share it. Row kPaddingId is zero and stays zero.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <torch/torch.h>

namespace seqrec::model {

class EmbeddingTableImpl : public torch::nn::Module {
 public:
  virtual int64_t rows() const = 0;
  virtual int64_t dim() const = 0;

  // ids of any shape (int64 in [0, rows())) -> [ids..., dim]. Differentiable in the rows;
  // the padding row gets no gradient.
  virtual torch::Tensor forward(const torch::Tensor& ids) = 0;

  // The table as the tied output layer over the classes [first, rows()): the logit of
  // class c for a position is hidden . row(c).
  //
  // Sum over positions of the softmax cross-entropy of hidden [N, dim] against labels [N]
  // (classes in [first, rows())). Label smoothing spreads that share of the target mass
  // evenly over all classes, as torch's cross_entropy does. Differentiable in hidden and
  // in the rows.
  virtual torch::Tensor cross_entropy_sum(const torch::Tensor& hidden, const torch::Tensor& labels, int64_t first,
                                          double label_smoothing) = 0;

  // 0-based rank of each target [B] among the classes for hidden [B, dim], ties counted
  // against the target (a class scoring equal to it ranks above it). exclude [B, L] ids
  // (undefined: none; kPaddingId entries ignored): classes scored -inf unless they are the
  // target. -> [B] int64. No gradient.
  virtual torch::Tensor target_ranks(const torch::Tensor& hidden, const torch::Tensor& targets, int64_t first,
                                     const torch::Tensor& exclude) = 0;

  // The k best classes for hidden [B, dim] (1 <= k <= classes), best first, with `exclude`
  // as above: {scores [B, k] float32, ids [B, k] int64}. Equal scores: lower id first.
  // No gradient.
  virtual std::pair<torch::Tensor, torch::Tensor> top_k(const torch::Tensor& hidden, int64_t k, int64_t first,
                                                        const torch::Tensor& exclude) = 0;

  // One class per position drawn from the softmax over the classes for hidden [N, dim]:
  // the class maximising logit + keyed_gumbel(keys, class, seed), keys [N] int64 one per
  // position; equal maxima: lower id. The noise is keyed by class, not by where the class
  // is scored, so the draw does not depend on chunking or on how rows are spread over
  // ranks. -> [N] int64 in [first, rows()). No gradient.
  virtual torch::Tensor sample(const torch::Tensor& hidden, const torch::Tensor& keys, int64_t first,
                               uint64_t seed) = 0;
};

// What a model asks of a table; a TableFactory decides where its rows live.
struct TableSpec {
  std::string name;     // the feature's name
  int64_t rows = 0;     // the feature's cardinality
  int64_t dim = 0;
  double init_std = 0.02;
  uint64_t seed = 0;    // of the initial rows
  bool item = false;    // the item table, also the tied output layer
};
using TableFactory = std::function<std::shared_ptr<EmbeddingTableImpl>(const TableSpec&)>;

// [ids.numel(), dim] float32: the initial rows of the given ids. Row id depends only on
// (seed, id); the padding id's row is zero.
torch::Tensor initial_rows(const torch::Tensor& ids, int64_t dim, double init_std, uint64_t seed);

// The whole table in this process: one [rows, dim] parameter named "weight".
class LocalEmbeddingTableImpl : public EmbeddingTableImpl {
 public:
  explicit LocalEmbeddingTableImpl(const TableSpec& spec);

  int64_t rows() const override { return weight_.size(0); }
  int64_t dim() const override { return weight_.size(1); }
  torch::Tensor forward(const torch::Tensor& ids) override;
  torch::Tensor cross_entropy_sum(const torch::Tensor& hidden, const torch::Tensor& labels, int64_t first,
                                  double label_smoothing) override;
  torch::Tensor target_ranks(const torch::Tensor& hidden, const torch::Tensor& targets, int64_t first,
                             const torch::Tensor& exclude) override;
  std::pair<torch::Tensor, torch::Tensor> top_k(const torch::Tensor& hidden, int64_t k, int64_t first,
                                                const torch::Tensor& exclude) override;
  torch::Tensor sample(const torch::Tensor& hidden, const torch::Tensor& keys, int64_t first, uint64_t seed) override;

  const torch::Tensor& weight() const { return weight_; }

 private:
  torch::Tensor weight_;
};

// The k best of candidate classes per row: scores [B, n], ids [B, n] (each id once per
// row) -> {scores [B, k], ids [B, k]}, best first, equal scores lower id first. How a
// top-k is assembled from chunks of classes, or from the ranks' shares of the table.
std::pair<torch::Tensor, torch::Tensor> best_of(const torch::Tensor& scores, const torch::Tensor& ids, int64_t k);

// Every table local: what a single process without sharding uses.
std::shared_ptr<EmbeddingTableImpl> make_local_table(const TableSpec& spec);

}  // namespace seqrec::model
