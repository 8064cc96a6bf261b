// One side feature as a vector: per event for sequence features, per session for context
// features.
//
// Categorical ids are embedded with the padding id fixed at zero; a multi-valued feature
// pools the embeddings of its non-padding values (mean or sum). Continuous values are
// standardised with the training split's statistics, then encoded: as they are (a scalar
// for the concatenation), by a projection, by a small MLP, or as a soft one-hot vector (a
// softmax over learned bins mixing the bins' embeddings; Transformers4Rec's
// SoftEmbedding), which lets a value act like a category without hand-made buckets.
// Optionally each vector gets its own layer norm and dropout before aggregation.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "seqrec/data/schema.h"
#include "seqrec/model/dropout.h"
#include "seqrec/model/embedding_table.h"

namespace seqrec::model {

enum class Pooling { Mean, Sum };
enum class ContinuousEncoding { Scalar, Linear, Mlp, SoftOneHot };

struct FeatureEncoderOptions {
  int64_t dim = 8;               // output width; Scalar encodings output max_values instead
  Pooling pooling = Pooling::Mean;
  ContinuousEncoding continuous = ContinuousEncoding::Linear;
  int64_t soft_one_hot_bins = 16;
  bool layer_norm = false;
  double dropout = 0.0;
  uint64_t seed = 0;             // of a categorical table's rows
};

class FeatureEncoderImpl : public torch::nn::Module {
 public:
  // A categorical feature's table comes from `tables` (local or sharded).
  FeatureEncoderImpl(const FeatureSpec& feature, const FeatureEncoderOptions& options, const TableFactory& tables);

  // values [N...] (one per row) or [N..., K] (multi-valued) -> [N..., output_dim()]
  torch::Tensor forward(const torch::Tensor& values);
  int64_t output_dim() const { return output_dim_; }

 private:
  torch::Tensor encode_categorical(const torch::Tensor& values);
  torch::Tensor encode_continuous(const torch::Tensor& values);

  FeatureEncoderOptions options_;
  bool categorical_;
  bool multi_valued_;
  int64_t output_dim_;
  std::shared_ptr<EmbeddingTableImpl> embedding_;
  torch::nn::Linear projection_{nullptr};  // linear; mlp's first layer; soft-one-hot's bin logits
  torch::nn::Linear hidden_{nullptr};      // mlp's second layer
  torch::Tensor bins_;                     // soft-one-hot: [bins, dim]
  torch::nn::LayerNorm norm_{nullptr};
  Dropout dropout_{nullptr};
  double mean_ = 0;
  double stddev_ = 1;
};
TORCH_MODULE(FeatureEncoder);

// Embedding size of a categorical feature when the options name none: grows with the
// fourth root of the cardinality, as the usual rule of thumb for embedding tables.
int64_t default_embedding_dim(int64_t cardinality, int64_t d_model);

}  // namespace seqrec::model
