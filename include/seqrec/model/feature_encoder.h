// One side feature as a vector: per event for sequence features, per session for context
// features.
//
// Categorical ids are embedded with the padding id fixed at zero; a multi-valued feature
// averages the embeddings of its non-padding values. Continuous values are standardised
// with the training split's statistics, then projected.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "seqrec/data/schema.h"
#include "seqrec/model/embedding_table.h"

namespace seqrec::model {

class FeatureEncoderImpl : public torch::nn::Module {
 public:
  // A categorical feature's table comes from `tables` (local or sharded), its rows seeded
  // by `seed`.
  FeatureEncoderImpl(const FeatureSpec& feature, int64_t dim, const TableFactory& tables, uint64_t seed);

  // values [N...] (one per row) or [N..., K] (multi-valued) -> [N..., dim]
  torch::Tensor forward(const torch::Tensor& values);

 private:
  bool categorical_;
  bool multi_valued_;
  std::shared_ptr<EmbeddingTableImpl> embedding_;
  torch::nn::Linear projection_{nullptr};
  double mean_ = 0;
  double stddev_ = 1;
};
TORCH_MODULE(FeatureEncoder);

// Embedding size of a categorical feature when the options name none: grows with the
// fourth root of the cardinality, as the usual rule of thumb for embedding tables.
int64_t default_embedding_dim(int64_t cardinality, int64_t d_model);

}  // namespace seqrec::model
