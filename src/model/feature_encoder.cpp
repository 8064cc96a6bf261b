#include "seqrec/model/feature_encoder.h"

#include <algorithm>
#include <cmath>

namespace seqrec::model {

FeatureEncoderImpl::FeatureEncoderImpl(const FeatureSpec& feature, int64_t dim, const TableFactory& tables,
                                       uint64_t seed)
    : categorical_(feature.kind == FeatureKind::Categorical), multi_valued_(feature.multi_valued()) {
  if (categorical_) {
    TableSpec spec;
    spec.name = feature.name;
    spec.rows = feature.cardinality;
    spec.dim = dim;
    spec.seed = seed;
    embedding_ = register_module("embedding", tables(spec));
  } else {
    projection_ = register_module("projection", torch::nn::Linear(feature.max_values, dim));
    mean_ = feature.stats.mean;
    // A constant feature carries no signal; dividing by 1 keeps it finite.
    stddev_ = feature.stats.stddev > 0 ? feature.stats.stddev : 1.0;
  }
}

torch::Tensor FeatureEncoderImpl::forward(const torch::Tensor& values) {
  if (categorical_) {
    if (!multi_valued_) return embedding_->forward(values);
    // Padding values embed to zero, so the sum over K already skips them.
    const torch::Tensor present = (values != kPaddingId).sum(-1, /*keepdim=*/true).clamp_min(1);
    return embedding_->forward(values).sum(-2) / present;
  }
  torch::Tensor x = (values.to(torch::kFloat32) - mean_) / stddev_;
  if (!multi_valued_) x = x.unsqueeze(-1);
  return projection_(x);
}

int64_t default_embedding_dim(int64_t cardinality, int64_t d_model) {
  const auto rule = static_cast<int64_t>(std::lround(6.0 * std::pow(static_cast<double>(cardinality), 0.25)));
  return std::clamp<int64_t>(rule, 1, d_model);
}

}  // namespace seqrec::model
