// From a batch's features to one vector per event: [B, L, d_model].
//
// The item embedding is also the output table of the model (tied weights). Side features
// (other sequence features, context features broadcast along the session, continuous
// features) are combined with it by concatenation and a projection, by element-wise sum,
// or by multiplying the item embedding with the sum of the others (a gate that lets side
// features reweigh the item's dimensions, Transformers4Rec's element-wise-sum-item-multi).
// Events the objective hides are replaced whole by a learned [MASK] vector: their
// item-side features would give the item away. Learned absolute positions are added per
// slot; padding slots come out as zero.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "seqrec/data/schema.h"
#include "seqrec/model/dropout.h"
#include "seqrec/model/embedding_table.h"
#include "seqrec/model/feature_encoder.h"

namespace seqrec::model {

enum class Aggregation { Concat, Sum, ItemMulti };

struct InputBlockOptions {
  int64_t d_model = 64;
  int64_t max_seq_len = 50;
  double dropout = 0.2;
  bool use_side_features = true;
  Aggregation aggregation = Aggregation::Concat;
  std::map<std::string, int64_t> feature_dims;  // concat only; see ModelOptions
  FeatureEncoderOptions side;                   // every side feature's; dim and seed set per feature
  std::set<std::string> withheld;               // side features never read: the session tasks' targets
  bool scale_by_sqrt_d = false;  // SASRec multiplies the event embedding by sqrt(d_model)
  bool layer_norm = true;        // SASRec has none before its first block
  bool mask_embedding = false;   // objectives that hide events need the [MASK] vector
  uint64_t seed = 0;             // of the tables' initial rows
};

class InputBlockImpl : public torch::nn::Module {
 public:
  // The item table and categorical side features' tables come from `tables`.
  InputBlockImpl(const Schema& schema, const InputBlockOptions& options, const TableFactory& tables);

  // features: a batch's tensors by name; mask [B, L]: real events; hidden [B, L]
  // (undefined when nothing is hidden): events replaced by [MASK]. -> [B, L, d_model]
  torch::Tensor forward(const std::map<std::string, torch::Tensor>& features, const torch::Tensor& mask,
                        const torch::Tensor& hidden = {});
  // XLNet's query stream starts from what the input says of a slot but its item: the
  // [MASK] vector (mask_embedding) and the slot's position, normed alike. -> [B, L, d_model]
  torch::Tensor query_start(const torch::Tensor& mask);

  const std::string& item_feature() const { return item_name_; }
  // V rows of d_model, row i the embedding of item id i; also the tied output layer.
  EmbeddingTableImpl& item_table() const { return *items_; }

 private:
  struct SideFeature {
    std::string name;
    bool context;  // one value per session, broadcast along it
    FeatureEncoder encoder;
  };

  torch::Tensor embed_events(const std::map<std::string, torch::Tensor>& features, int64_t length);
  // Positions, norm and dropout over per-slot vectors x [B, L, d_model]; padding zeroed.
  torch::Tensor finish(torch::Tensor x, const torch::Tensor& mask);

  InputBlockOptions options_;
  std::string item_name_;
  std::shared_ptr<EmbeddingTableImpl> items_;
  std::vector<SideFeature> side_features_;
  torch::nn::Linear combine_{nullptr};  // concat with side features only
  torch::Tensor mask_embedding_;
  torch::nn::Embedding positions_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  Dropout dropout_{nullptr};
};
TORCH_MODULE(InputBlock);

// The features that enter the model besides the item: every sequence and context
// feature except the item itself and event times.
std::vector<FeatureSpec> side_features(const Schema& schema);

}  // namespace seqrec::model
