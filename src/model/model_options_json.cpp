#include "seqrec/model/model_options_json.h"

#include <set>

#include <nlohmann/json.hpp>

#include "seqrec/core/error.h"

namespace seqrec::model {

using nlohmann::json;

namespace {

// One table of fields serves both directions, so writing and reading cannot drift apart.
template <typename Visit>
void visit_fields(ModelOptions& o, Visit&& visit) {
  visit("body", o.body);
  visit("masking", o.masking);
  visit("loss", o.loss);
  visit("d_model", o.d_model);
  visit("layers", o.layers);
  visit("heads", o.heads);
  visit("d_ff", o.d_ff);
  visit("dropout", o.dropout);
  visit("max_seq_len", o.max_seq_len);
  visit("negatives", o.negatives);
  visit("negative_sharing", o.negative_sharing);
  visit("bpr_reg", o.bpr_reg);
  visit("mlm_probability", o.mlm_probability);
  visit("plm_probability", o.plm_probability);
  visit("max_span_length", o.max_span_length);
  visit("rtd_weight", o.rtd_weight);
  visit("rtd_share", o.rtd_share);
  visit("generator_layers", o.generator_layers);
  visit("label_smoothing", o.label_smoothing);
  visit("side_features", o.use_side_features);
  visit("aggregation", o.aggregation);
  visit("feature_dims", o.feature_dims);
  visit("multi_value_pooling", o.multi_value_pooling);
  visit("continuous_encoding", o.continuous_encoding);
  visit("soft_one_hot_bins", o.soft_one_hot_bins);
  visit("feature_norm", o.feature_norm);
  visit("feature_dropout", o.feature_dropout);
  visit("temperature", o.temperature);
  visit("swap_probability", o.swap_probability);
  visit("user_swap_probability", o.user_swap_probability);
  visit("norm", o.norm);
  visit("activation", o.activation);
  visit("seed", o.seed);
  visit("tasks", o.tasks);
  visit("task_weights", o.task_weights);
  visit("summary", o.summary);
}

}  // namespace

std::string model_options_to_json(const ModelOptions& options) {
  ModelOptions copy = options;
  json j = json::object();
  visit_fields(copy, [&](const char* name, const auto& value) { j[name] = value; });
  return j.dump(2);
}

ModelOptions model_options_from_json(const std::string& text, const std::string& where) {
  ModelOptions options;
  try {
    const json j = json::parse(text);
    if (!j.is_object()) fail(where, ": model options are not a JSON object");
    std::set<std::string> known;
    visit_fields(options, [&](const char* name, auto& value) {
      known.insert(name);
      if (j.contains(name)) j.at(name).get_to(value);
    });
    for (const auto& item : j.items()) {
      if (!known.count(item.key())) {
        fail(where, ": unknown model option '", item.key(), "' (written by a newer seqrec?)");
      }
    }
  } catch (const json::exception& e) {
    fail(where, ": malformed model options: ", e.what());
  }
  return options;
}

}  // namespace seqrec::model
