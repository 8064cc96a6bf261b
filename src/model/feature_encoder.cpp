#include "seqrec/model/feature_encoder.h"

#include <algorithm>
#include <cmath>

namespace seqrec::model {

namespace {

// As the item table's: small rows keep a fresh model's scores near uniform.
constexpr double kBinInitStd = 0.02;

}  // namespace

FeatureEncoderImpl::FeatureEncoderImpl(const FeatureSpec& feature, const FeatureEncoderOptions& options,
                                       const TableFactory& tables)
    : options_(options),
      categorical_(feature.kind == FeatureKind::Categorical),
      multi_valued_(feature.multi_valued()),
      output_dim_(options.dim) {
  if (categorical_) {
    TableSpec spec;
    spec.name = feature.name;
    spec.rows = feature.cardinality;
    spec.dim = options.dim;
    spec.seed = options.seed;
    embedding_ = register_module("embedding", tables(spec));
  } else {
    mean_ = feature.stats.mean;
    // A constant feature carries no signal; dividing by 1 keeps it finite.
    stddev_ = feature.stats.stddev > 0 ? feature.stats.stddev : 1.0;
    const int64_t width = feature.max_values;
    switch (options.continuous) {
      case ContinuousEncoding::Scalar:
        output_dim_ = width;
        break;
      case ContinuousEncoding::Linear:
        projection_ = register_module("projection", torch::nn::Linear(width, options.dim));
        break;
      case ContinuousEncoding::Mlp:
        projection_ = register_module("projection", torch::nn::Linear(width, options.dim));
        hidden_ = register_module("hidden", torch::nn::Linear(options.dim, options.dim));
        break;
      case ContinuousEncoding::SoftOneHot:
        projection_ = register_module("projection", torch::nn::Linear(width, options.soft_one_hot_bins));
        bins_ = register_parameter("bins", torch::randn({options.soft_one_hot_bins, options.dim}) * kBinInitStd);
        break;
    }
  }
  if (options.layer_norm) {
    norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({output_dim_})));
  }
  if (options.dropout > 0) dropout_ = register_module("dropout", Dropout(options.dropout));
}

torch::Tensor FeatureEncoderImpl::forward(const torch::Tensor& values) {
  torch::Tensor x = categorical_ ? encode_categorical(values) : encode_continuous(values);
  if (norm_) x = norm_(x);
  if (dropout_) x = dropout_(x);
  return x;
}

torch::Tensor FeatureEncoderImpl::encode_categorical(const torch::Tensor& values) {
  if (!multi_valued_) return embedding_->forward(values);
  // Padding values embed to zero, so the sum over K already skips them.
  const torch::Tensor sum = embedding_->forward(values).sum(-2);
  if (options_.pooling == Pooling::Sum) return sum;
  return sum / (values != kPaddingId).sum(-1, /*keepdim=*/true).clamp_min(1);
}

torch::Tensor FeatureEncoderImpl::encode_continuous(const torch::Tensor& values) {
  torch::Tensor x = (values.to(torch::kFloat32) - mean_) / stddev_;
  if (!multi_valued_) x = x.unsqueeze(-1);
  switch (options_.continuous) {
    case ContinuousEncoding::Scalar:
      return x;
    case ContinuousEncoding::Linear:
      return projection_(x);
    case ContinuousEncoding::Mlp:
      return hidden_(torch::relu(projection_(x)));
    case ContinuousEncoding::SoftOneHot:
      return torch::softmax(projection_(x), -1).matmul(bins_);
  }
  return x;
}

int64_t default_embedding_dim(int64_t cardinality, int64_t d_model) {
  const auto rule = static_cast<int64_t>(std::lround(6.0 * std::pow(static_cast<double>(cardinality), 0.25)));
  return std::clamp<int64_t>(rule, 1, d_model);
}

}  // namespace seqrec::model
