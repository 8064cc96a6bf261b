#include <memory>
#include <string>
#include <vector>

#include "seqrec/core/error.h"
#include "seqrec/model/gru4rec_body.h"
#include "seqrec/model/hstu_body.h"
#include "seqrec/model/recommender.h"
#include "seqrec/model/sasrec_body.h"
#include "seqrec/model/sequential_recommender.h"
#include "seqrec/model/transformer_body.h"

namespace seqrec::model {

namespace {

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

void check_choice(const std::string& option, const std::string& value, const std::vector<std::string>& valid) {
  for (const std::string& v : valid) {
    if (v == value) return;
  }
  fail("model.", option, ": unknown value '", value, "' (valid: ", joined(valid), ")");
}

void check_options(const ModelOptions& o, const Schema& schema) {
  check_choice("body", o.body, {"sasrec", "transformer", "gru4rec", "hstu"});
  check_choice("masking", o.masking, {"clm", "mlm"});
  check_choice("loss", o.loss, {"ce", "sampled", "bce", "bpr-max", "top1-max"});
  check_choice("negative_sharing", o.negative_sharing, {"position", "step"});
  check_choice("aggregation", o.aggregation, {"concat", "element-wise-sum"});
  check_choice("norm", o.norm, {"pre", "post"});
  check_choice("activation", o.activation, {"gelu", "relu"});
  if ((o.body == "sasrec" || o.body == "gru4rec" || o.body == "hstu") && o.masking != "clm") {
    fail("model.masking: body '", o.body, "' is causal and cannot train '", o.masking, "' (valid for ", o.body,
         ": clm)");
  }
  if (o.d_model < 1 || o.layers < 1 || o.heads < 1) {
    fail("model.d_model, model.layers and model.heads must be at least 1 (got ", o.d_model, ", ", o.layers, ", ",
         o.heads, ")");
  }
  // Heads split d_model in attention bodies only; gru4rec has none, so --model.heads is moot.
  if (o.body != "gru4rec" && o.d_model % o.heads != 0) {
    fail("model.d_model (", o.d_model, ") must be a multiple of model.heads (", o.heads, ")");
  }
  if (o.d_ff < 0) fail("model.d_ff must be 0 (the body's default) or more (got ", o.d_ff, ")");
  if (o.dropout < 0 || o.dropout >= 1) fail("model.dropout must lie in [0, 1) (got ", o.dropout, ")");
  if (o.max_seq_len < 1) fail("max_seq_len must be at least 1 (got ", o.max_seq_len, ")");
  if ((o.loss == "sampled" || o.loss == "bpr-max" || o.loss == "top1-max") && o.negatives < 1) {
    fail("model.negatives must be at least 1 (got ", o.negatives, ")");
  }
  if (o.bpr_reg < 0) fail("model.bpr_reg must be 0 or more (got ", o.bpr_reg, ")");
  if (o.masking == "mlm" && (o.mlm_probability <= 0 || o.mlm_probability > 1)) {
    fail("model.mlm_probability must lie in (0, 1] (got ", o.mlm_probability, ")");
  }
  if (o.label_smoothing < 0 || o.label_smoothing >= 1) {
    fail("model.label_smoothing must lie in [0, 1) (got ", o.label_smoothing, ")");
  }
  if (o.label_smoothing > 0 && o.loss != "ce") {
    fail("model.label_smoothing applies to loss 'ce' only (loss is '", o.loss, "')");
  }
  for (const auto& [name, dim] : o.feature_dims) {
    const FeatureSpec* f = schema.find(name);
    if (f == nullptr || f->has_tag(kTagItemId) || f->has_tag(kTagTime)) {
      std::vector<std::string> names;
      for (const FeatureSpec& side : side_features(schema)) names.push_back(side.name);
      fail("model.feature_dims: '", name, "' is not a side feature of the data set (side features: ", joined(names),
           ")");
    }
    if (dim < 1) fail("model.feature_dims: '", name, "' needs a size of at least 1 (got ", dim, ")");
  }
  if (schema.item().cardinality <= kFirstRealId) {
    fail("feature '", schema.item().name, "' has no real items (cardinality ", schema.item().cardinality, ")");
  }
}

// The sequence feature of event times, if the data set has one.
const FeatureSpec* event_times(const Schema& schema) {
  for (const FeatureSpec& f : schema.features()) {
    if (f.scope == FeatureScope::Sequence && f.has_tag(kTagTime) && !f.multi_valued()) return &f;
  }
  return nullptr;
}

std::shared_ptr<SequenceBodyImpl> build_body(const ModelOptions& o, const Schema& schema) {
  if (o.body == "hstu") {
    HstuOptions hstu;
    hstu.d_model = o.d_model;
    hstu.layers = o.layers;
    hstu.heads = o.heads;
    hstu.dropout = o.dropout;
    hstu.max_seq_len = o.max_seq_len;
    hstu.time_buckets = event_times(schema) != nullptr ? 64 : 0;  // gaps up to ~5 years, as 1.35^63 s
    return std::make_shared<HstuBodyImpl>(hstu);
  }
  if (o.body == "gru4rec") {
    Gru4recOptions gru4rec;
    gru4rec.d_model = o.d_model;
    gru4rec.layers = o.layers;
    gru4rec.dropout = o.dropout;
    return std::make_shared<Gru4recBodyImpl>(gru4rec);
  }
  if (o.body == "sasrec") {
    SasrecOptions sasrec;
    sasrec.d_model = o.d_model;
    sasrec.layers = o.layers;
    sasrec.heads = o.heads;
    sasrec.d_ff = o.d_ff > 0 ? o.d_ff : o.d_model;
    sasrec.dropout = o.dropout;
    return std::make_shared<SasrecBodyImpl>(sasrec);
  }
  TransformerOptions transformer;
  transformer.d_model = o.d_model;
  transformer.layers = o.layers;
  transformer.heads = o.heads;
  transformer.d_ff = o.d_ff > 0 ? o.d_ff : 4 * o.d_model;
  transformer.dropout = o.dropout;
  transformer.norm_first = o.norm == "pre";
  transformer.activation = o.activation == "gelu" ? Activation::Gelu : Activation::Relu;
  transformer.causal = o.masking == "clm";
  return std::make_shared<TransformerBodyImpl>(transformer);
}

std::shared_ptr<ItemLossImpl> build_loss(const ModelOptions& o, const Schema& schema) {
  if (o.loss == "ce") return std::make_shared<FullSoftmaxLossImpl>(o.label_smoothing);
  const torch::Tensor distribution = uniform_item_distribution(schema.item().cardinality);
  const bool per_position = o.negative_sharing == "position";
  if (o.loss == "sampled") return std::make_shared<SampledSoftmaxLossImpl>(distribution, o.negatives, per_position);
  if (o.loss == "bpr-max" || o.loss == "top1-max") {
    return std::make_shared<RankingMaxLossImpl>(o.loss == "bpr-max" ? RankingMax::Bpr : RankingMax::Top1,
                                                distribution, o.negatives, per_position, o.bpr_reg);
  }
  return std::make_shared<BinaryCrossEntropyLossImpl>(distribution);
}

}  // namespace

Recommender build_recommender(const ModelOptions& o, const Schema& schema, const TableFactory& tables) {
  check_options(o, schema);
  InputBlockOptions input;
  input.d_model = o.d_model;
  input.max_seq_len = o.max_seq_len;
  input.dropout = o.dropout;
  input.use_side_features = o.use_side_features;
  input.concat = o.aggregation == "concat";
  input.feature_dims = o.feature_dims;
  input.scale_by_sqrt_d = o.body == "sasrec";
  input.layer_norm = o.body != "sasrec";
  input.mask_embedding = o.masking == "mlm";
  input.seed = o.seed;
  const TaskPlan tasks = plan_tasks(o.tasks, o.task_weights, schema);
  for (const SessionTask& task : tasks.sessions) {
    if (o.feature_dims.count(task.feature)) {
      fail("model.feature_dims: '", task.feature, "' is the target of a task in model.tasks and no input");
    }
    input.withheld.insert(task.feature);
  }

  std::unique_ptr<Masking> masking;
  if (o.masking == "clm") {
    masking = std::make_unique<CausalMasking>(schema);
  } else {
    masking = std::make_unique<MaskedItemMasking>(schema, o.mlm_probability);
  }
  const FeatureSpec* times = event_times(schema);
  auto model = std::make_shared<SequentialRecommenderImpl>(InputBlock(schema, input, tables), build_body(o, schema),
                                                           std::move(masking), build_loss(o, schema),
                                                           times != nullptr ? times->name : std::string());
  model->add_session_heads(tasks, parse_session_summary(o.summary), o.d_model);
  return Recommender(std::shared_ptr<RecommenderImpl>(std::move(model)));
}

}  // namespace seqrec::model
