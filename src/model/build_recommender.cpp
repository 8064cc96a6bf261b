#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "seqrec/core/error.h"
#include "seqrec/model/gru4rec_body.h"
#include "seqrec/model/hstu_body.h"
#include "seqrec/model/recommender.h"
#include "seqrec/model/replaced_token_recommender.h"
#include "seqrec/model/sasrec_body.h"
#include "seqrec/model/sequential_recommender.h"
#include "seqrec/model/transformer_body.h"
#include "seqrec/model/xlnet_body.h"

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

// The context feature of the session's user, if the data set has one.
const FeatureSpec* user_id_feature(const Schema& schema) {
  for (const FeatureSpec& f : schema.features()) {
    if (f.scope == FeatureScope::Context && f.has_tag(kTagUserId)) return &f;
  }
  return nullptr;
}

// Which objectives each body can train: causal bodies only clm, the bidirectional
// transformer clm and mlm; plm needs xlnet's query stream, rtd electra's discriminator.
void check_body_and_masking(const ModelOptions& o) {
  static const std::map<std::string, std::vector<std::string>> trainable = {
      {"sasrec", {"clm"}},  {"sse-pt", {"clm"}}, {"gru4rec", {"clm"}},        {"hstu", {"clm"}},
      {"xlnet", {"plm"}},   {"electra", {"rtd"}}, {"transformer", {"clm", "mlm"}}};
  const std::vector<std::string>& valid = trainable.at(o.body);
  if (std::find(valid.begin(), valid.end(), o.masking) != valid.end()) return;
  std::string list;
  for (const std::string& masking : valid) list += (list.empty() ? "" : ", ") + masking;
  fail("model.masking: body '", o.body, "' cannot train '", o.masking, "' (valid for ", o.body, ": ", list, ")");
}

void check_replaced_token_options(const ModelOptions& o) {
  if (o.masking != "rtd") return;
  if (o.swap_probability > 0 || o.user_swap_probability > 0) {
    // A swapped input would blur what the discriminator calls original.
    fail("model.swap_probability / model.user_swap_probability: not available with masking rtd");
  }
  check_choice("rtd_share", o.rtd_share, {"all", "embeddings"});
  if (o.rtd_weight < 0) fail("model.rtd_weight must be 0 or more (got ", o.rtd_weight, ")");
  if (o.generator_layers < 0) {
    fail("model.generator_layers must be 0 (model.layers) or more (got ", o.generator_layers, ")");
  }
}

void check_options(const ModelOptions& o, const Schema& schema) {
  check_choice("body", o.body, {"sasrec", "sse-pt", "transformer", "gru4rec", "hstu", "xlnet", "electra"});
  check_choice("masking", o.masking, {"clm", "mlm", "plm", "rtd"});
  check_choice("loss", o.loss, {"ce", "sampled", "bce", "bpr-max", "top1-max"});
  check_choice("negative_sharing", o.negative_sharing, {"position", "step"});
  check_choice("aggregation", o.aggregation, {"concat", "element-wise-sum", "element-wise-sum-item-multi"});
  check_choice("multi_value_pooling", o.multi_value_pooling, {"mean", "sum"});
  check_choice("continuous_encoding", o.continuous_encoding, {"scalar", "linear", "mlp", "soft-one-hot"});
  if (o.continuous_encoding == "scalar" && o.aggregation != "concat") {
    fail("model.continuous_encoding: scalar (the value itself, one dimension) needs aggregation concat; ",
         "aggregation '", o.aggregation, "' sums d_model-wide vectors (valid here: linear, mlp, soft-one-hot)");
  }
  if (o.soft_one_hot_bins < 2) fail("model.soft_one_hot_bins must be at least 2 (got ", o.soft_one_hot_bins, ")");
  check_choice("norm", o.norm, {"pre", "post"});
  check_choice("activation", o.activation, {"gelu", "relu"});
  check_body_and_masking(o);
  check_replaced_token_options(o);
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
  if (o.feature_dropout < 0 || o.feature_dropout >= 1) {
    fail("model.feature_dropout must lie in [0, 1) (got ", o.feature_dropout, ")");
  }
  if (!(o.temperature > 0)) fail("model.temperature must be positive (got ", o.temperature, ")");
  if (o.swap_probability < 0 || o.swap_probability >= 1) {
    fail("model.swap_probability must lie in [0, 1) (got ", o.swap_probability, ")");
  }
  if (o.user_swap_probability < 0 || o.user_swap_probability >= 1) {
    fail("model.user_swap_probability must lie in [0, 1) (got ", o.user_swap_probability, ")");
  }
  const FeatureSpec* user = user_id_feature(schema);
  if (o.body == "sse-pt" && (user == nullptr || !o.use_side_features)) {
    fail("model.body: sse-pt embeds the session's user: prepare the data set with --user-id-feature and keep ",
         "model.side_features on");
  }
  if (o.user_swap_probability > 0 && (user == nullptr || !o.use_side_features)) {
    fail("model.user_swap_probability: the model has no user-id feature (prepare with --user-id-feature, ",
         "model.side_features on)");
  }
  if (o.max_seq_len < 1) fail("max_seq_len must be at least 1 (got ", o.max_seq_len, ")");
  if ((o.loss == "sampled" || o.loss == "bpr-max" || o.loss == "top1-max") && o.negatives < 1) {
    fail("model.negatives must be at least 1 (got ", o.negatives, ")");
  }
  if (o.bpr_reg < 0) fail("model.bpr_reg must be 0 or more (got ", o.bpr_reg, ")");
  if ((o.masking == "mlm" || o.masking == "rtd") && (o.mlm_probability <= 0 || o.mlm_probability > 1)) {
    fail("model.mlm_probability must lie in (0, 1] (got ", o.mlm_probability, ")");
  }
  if (o.masking == "plm" && (o.plm_probability <= 0 || o.plm_probability > 1)) {
    fail("model.plm_probability must lie in (0, 1] (got ", o.plm_probability, ")");
  }
  if (o.masking == "plm" && o.max_span_length < 1) {
    fail("model.max_span_length must be at least 1 (got ", o.max_span_length, ")");
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
  // SSE-PT (Wu et al., RecSys 2020) is SASRec's block over events that carry the user's
  // embedding (a context feature of the input block) and stochastic shared embeddings.
  if (o.body == "sasrec" || o.body == "sse-pt") {
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
  if (o.body == "xlnet") {
    XlnetOptions xlnet;
    xlnet.blocks = transformer;
    xlnet.max_seq_len = o.max_seq_len;
    return std::make_shared<XlnetBodyImpl>(xlnet);
  }
  return std::make_shared<TransformerBodyImpl>(transformer);
}

// masking=rtd: the generator and, under rtd_share=embeddings, a discriminator of its own.
std::shared_ptr<RecommenderImpl> build_replaced_token(const ModelOptions& o, const Schema& schema, InputBlock input,
                                                      std::shared_ptr<ItemLossImpl> loss, std::string time_feature) {
  ModelOptions generator_options = o;
  if (o.rtd_share == "embeddings" && o.generator_layers > 0) generator_options.layers = o.generator_layers;
  std::shared_ptr<SequenceBodyImpl> generator = build_body(generator_options, schema);
  std::shared_ptr<SequenceBodyImpl> discriminator = o.rtd_share == "embeddings" ? build_body(o, schema) : nullptr;
  return std::make_shared<ReplacedTokenRecommenderImpl>(schema, std::move(input), std::move(generator),
                                                        std::move(discriminator), std::move(loss),
                                                        ReplacedTokenOptions{o.rtd_weight, o.mlm_probability},
                                                        std::move(time_feature));
}

std::shared_ptr<ItemLossImpl> build_untempered_loss(const ModelOptions& o, const Schema& schema) {
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

std::shared_ptr<ItemLossImpl> build_loss(const ModelOptions& o, const Schema& schema) {
  std::shared_ptr<ItemLossImpl> loss = build_untempered_loss(o, schema);
  if (o.temperature == 1.0) return loss;
  return std::make_shared<TemperedLossImpl>(std::move(loss), o.temperature);
}

SwapOptions swap_options(const ModelOptions& o, const Schema& schema) {
  SwapOptions swap;
  swap.item_probability = o.swap_probability;
  if (const FeatureSpec* user = user_id_feature(schema); user != nullptr && o.user_swap_probability > 0) {
    swap.user_feature = user->name;
    swap.user_cardinality = user->cardinality;
    swap.user_probability = o.user_swap_probability;
  }
  return swap;
}

// tasks: their target features are withheld from the inputs.
InputBlockOptions input_block_options(const ModelOptions& o, const TaskPlan& tasks) {
  InputBlockOptions input;
  input.d_model = o.d_model;
  input.max_seq_len = o.max_seq_len;
  input.dropout = o.dropout;
  input.use_side_features = o.use_side_features;
  input.aggregation = o.aggregation == "concat"              ? Aggregation::Concat
                      : o.aggregation == "element-wise-sum" ? Aggregation::Sum
                                                            : Aggregation::ItemMulti;
  input.feature_dims = o.feature_dims;
  input.side.pooling = o.multi_value_pooling == "sum" ? Pooling::Sum : Pooling::Mean;
  input.side.continuous = o.continuous_encoding == "scalar"   ? ContinuousEncoding::Scalar
                          : o.continuous_encoding == "mlp"    ? ContinuousEncoding::Mlp
                          : o.continuous_encoding == "linear" ? ContinuousEncoding::Linear
                                                              : ContinuousEncoding::SoftOneHot;
  input.side.soft_one_hot_bins = o.soft_one_hot_bins;
  input.side.layer_norm = o.feature_norm;
  input.side.dropout = o.feature_dropout;
  const bool sasrec_block = o.body == "sasrec" || o.body == "sse-pt";
  input.scale_by_sqrt_d = sasrec_block;
  input.layer_norm = !sasrec_block;
  // plm: the query stream's start; rtd: its generator is an MLM
  input.mask_embedding = o.masking == "mlm" || o.masking == "plm" || o.masking == "rtd";
  input.seed = o.seed;
  for (const SessionTask& task : tasks.sessions) {
    if (o.feature_dims.count(task.feature)) {
      fail("model.feature_dims: '", task.feature, "' is the target of a task in model.tasks and no input");
    }
    input.withheld.insert(task.feature);
  }
  return input;
}

}  // namespace

Recommender build_recommender(const ModelOptions& o, const Schema& schema, const TableFactory& tables) {
  check_options(o, schema);
  const TaskPlan tasks = plan_tasks(o.tasks, o.task_weights, schema);

  std::unique_ptr<Masking> masking;
  if (o.masking == "clm") {
    masking = std::make_unique<CausalMasking>(schema);
  } else if (o.masking == "plm") {
    masking = std::make_unique<PermutationMasking>(schema, o.plm_probability, o.max_span_length);
  } else {
    masking = std::make_unique<MaskedItemMasking>(schema, o.mlm_probability);
  }
  const FeatureSpec* times = event_times(schema);
  if (o.masking == "rtd") {
    if (!tasks.sessions.empty()) fail("model.tasks: session tasks are not available with masking rtd");
    return Recommender(build_replaced_token(o, schema, InputBlock(schema, input_block_options(o, tasks), tables),
                                            build_loss(o, schema), times != nullptr ? times->name : std::string()));
  }
  auto model = std::make_shared<SequentialRecommenderImpl>(
      InputBlock(schema, input_block_options(o, tasks), tables), build_body(o, schema), std::move(masking),
      build_loss(o, schema), times != nullptr ? times->name : std::string(), swap_options(o, schema));
  model->add_session_heads(tasks, parse_session_summary(o.summary), o.d_model);
  return Recommender(std::shared_ptr<RecommenderImpl>(std::move(model)));
}

}  // namespace seqrec::model
