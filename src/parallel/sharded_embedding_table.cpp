#include "seqrec/parallel/sharded_embedding_table.h"

#include "seqrec/core/error.h"
#include "shard_link.h"
#include "sharded_lookup.h"
#include "vocab_parallel.h"

namespace seqrec::parallel {

ShardedEmbeddingTableImpl::ShardedEmbeddingTableImpl(const model::TableSpec& spec,
                                                     std::shared_ptr<comm::Communicator> comm)
    : comm_(std::move(comm)), rows_(spec.rows) {
  if (comm_ == nullptr) fail("embedding table '", spec.name, "' needs a communicator to be sharded");
  if (spec.rows < 1 || spec.dim < 1) fail("embedding table '", spec.name, "' needs rows and dim of at least 1");
  const torch::Tensor ids = global_ids();
  shard_ = register_parameter(
      "shard",
      model::initial_rows(ids, spec.dim, spec.init_std, spec.seed).view({ids.numel(), spec.dim}).to(comm_->device()));
  touched_ = torch::zeros({ids.numel()}, shard_.options().dtype(torch::kBool));
}

torch::Tensor ShardedEmbeddingTableImpl::global_ids() const {
  return torch::arange(comm_->rank(), rows_, comm_->size(), torch::dtype(torch::kLong).device(comm_->device()));
}

torch::Tensor ShardedEmbeddingTableImpl::take_touched_rows() {
  const torch::Tensor taken = touched_.clone();
  touched_.zero_();
  return taken;
}

torch::Tensor ShardedEmbeddingTableImpl::forward(const torch::Tensor& ids) {
  return detail::sharded_lookup(shard_, ids, detail::make_shard_link(comm_, rows_, touched_));
}

torch::Tensor ShardedEmbeddingTableImpl::cross_entropy_sum(const torch::Tensor& hidden, const torch::Tensor& labels,
                                                           int64_t first, double label_smoothing) {
  return detail::vocab_parallel_cross_entropy(shard_, hidden, labels, first, label_smoothing,
                                              detail::make_shard_link(comm_, rows_, touched_));
}

torch::Tensor ShardedEmbeddingTableImpl::target_ranks(const torch::Tensor& hidden, const torch::Tensor& targets,
                                                      int64_t first, const torch::Tensor& exclude) {
  return detail::vocab_parallel_target_ranks(*comm_, shard_, rows_, hidden, targets, first, exclude);
}

std::pair<torch::Tensor, torch::Tensor> ShardedEmbeddingTableImpl::top_k(const torch::Tensor& hidden, int64_t k,
                                                                         int64_t first, const torch::Tensor& exclude) {
  return detail::vocab_parallel_top_k(*comm_, shard_, rows_, hidden, k, first, exclude);
}

torch::Tensor ShardedEmbeddingTableImpl::sample(const torch::Tensor& hidden, const torch::Tensor& keys, int64_t first,
                                                uint64_t seed) {
  return detail::vocab_parallel_sample(*comm_, shard_, rows_, hidden, keys, first, seed);
}

model::TableFactory sharded_table_factory(std::shared_ptr<comm::Communicator> comm, int64_t shard_threshold) {
  return [comm = std::move(comm),
          shard_threshold](const model::TableSpec& spec) -> std::shared_ptr<model::EmbeddingTableImpl> {
    if (shard_threshold >= 0 && (spec.item || spec.rows > shard_threshold)) {
      return std::make_shared<ShardedEmbeddingTableImpl>(spec, comm);
    }
    return model::make_local_table(spec);
  };
}

}  // namespace seqrec::parallel
