#include "seqrec/model/input_block.h"

#include <cmath>

#include "seqrec/core/checksum.h"
#include "seqrec/core/error.h"
#include "seqrec/core/rng.h"

namespace seqrec::model {

namespace {

// Small enough that the tied output starts near a uniform softmax (loss ~ log V).
constexpr double kEmbeddingInitStd = 0.02;
// A projected scalar is rank one whatever its width; a few dimensions give the concat
// projection room for its bias.
constexpr int64_t kContinuousDim = 8;

// Width of a side feature's vector before the concatenation is projected to d_model.
int64_t concat_dim(const FeatureSpec& f, const InputBlockOptions& options) {
  const auto named = options.feature_dims.find(f.name);
  if (named != options.feature_dims.end()) return named->second;
  if (f.kind == FeatureKind::Categorical) return default_embedding_dim(f.cardinality, options.d_model);
  return kContinuousDim;
}

}  // namespace

std::vector<FeatureSpec> side_features(const Schema& schema) {
  std::vector<FeatureSpec> side;
  for (const FeatureSpec& f : schema.features()) {
    if (!f.has_tag(kTagItemId) && !f.has_tag(kTagTime)) side.push_back(f);
  }
  return side;
}

InputBlockImpl::InputBlockImpl(const Schema& schema, const InputBlockOptions& options, const TableFactory& tables)
    : options_(options), item_name_(schema.item().name) {
  const int64_t d = options.d_model;
  // Each table's rows are seeded by its feature's name, not by its place in the schema.
  const auto table_seed = [&](const std::string& name) { return derive_seed(options.seed, {fnv1a64(name)}); };
  TableSpec item;
  item.name = item_name_;
  item.rows = schema.item().cardinality;
  item.dim = d;
  item.init_std = kEmbeddingInitStd;
  item.seed = table_seed(item_name_);
  item.item = true;
  items_ = register_module("items", tables(item));

  if (options.use_side_features) {
    int64_t concat_width = d;
    const bool concat = options.aggregation == Aggregation::Concat;
    for (const FeatureSpec& f : side_features(schema)) {
      if (options.withheld.count(f.name)) continue;
      FeatureEncoderOptions encoder = options.side;
      encoder.dim = concat ? concat_dim(f, options) : d;
      encoder.seed = table_seed(f.name);
      const std::string module_name = "side_feature_" + std::to_string(side_features_.size());
      side_features_.push_back({f.name, f.scope == FeatureScope::Context,
                                register_module(module_name, FeatureEncoder(f, encoder, tables))});
      concat_width += side_features_.back().encoder->output_dim();
    }
    if (concat && !side_features_.empty()) {
      combine_ = register_module("combine", torch::nn::Linear(concat_width, d));
    }
  }
  if (options.mask_embedding) {
    mask_embedding_ = register_parameter("mask_embedding", torch::randn({d}) * kEmbeddingInitStd);
  }
  positions_ = register_module("positions", torch::nn::Embedding(options.max_seq_len, d));
  if (options.layer_norm) norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  dropout_ = register_module("dropout", Dropout(options.dropout));

  torch::NoGradGuard no_grad;
  positions_->weight.normal_(0, kEmbeddingInitStd);
}

torch::Tensor InputBlockImpl::embed_events(const std::map<std::string, torch::Tensor>& features, int64_t length) {
  torch::Tensor items = items_->forward(features.at(item_name_));
  if (side_features_.empty()) return items;
  std::vector<torch::Tensor> parts;
  for (SideFeature& side : side_features_) {
    torch::Tensor part = side.encoder(features.at(side.name));
    if (side.context) part = part.unsqueeze(1).expand({-1, length, -1});
    parts.push_back(part);
  }
  switch (options_.aggregation) {
    case Aggregation::Concat:
      parts.insert(parts.begin(), items);
      return combine_(torch::cat(parts, -1));
    case Aggregation::Sum:
      return items + torch::stack(parts).sum(0);
    case Aggregation::ItemMulti:
      return items * torch::stack(parts).sum(0);
  }
  return items;
}

torch::Tensor InputBlockImpl::forward(const std::map<std::string, torch::Tensor>& features, const torch::Tensor& mask,
                                      const torch::Tensor& hidden) {
  const int64_t length = mask.size(1);
  if (length > options_.max_seq_len) {
    fail("batch of ", length, " events per session is longer than the model's max_seq_len (", options_.max_seq_len,
         ")");
  }
  torch::Tensor x = embed_events(features, length);
  if (hidden.defined()) x = torch::where(hidden.unsqueeze(-1), mask_embedding_, x);
  return finish(x, mask);
}

torch::Tensor InputBlockImpl::query_start(const torch::Tensor& mask) {
  return finish(mask_embedding_.expand({mask.size(0), mask.size(1), options_.d_model}), mask);
}

torch::Tensor InputBlockImpl::finish(torch::Tensor x, const torch::Tensor& mask) {
  if (options_.scale_by_sqrt_d) x = x * std::sqrt(static_cast<double>(options_.d_model));
  x = x + positions_->weight.slice(0, 0, mask.size(1));
  if (options_.layer_norm) x = norm_(x);
  return dropout_(x) * mask.unsqueeze(-1);
}

}  // namespace seqrec::model
