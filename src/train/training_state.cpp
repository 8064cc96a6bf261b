#include "seqrec/train/training_state.h"

#include <nlohmann/json.hpp>

#include "seqrec/core/error.h"

namespace seqrec::train {

Weights copy_weights(torch::nn::Module& model) {
  Weights copy;
  for (const auto& p : model.named_parameters()) copy.emplace_back(p.key(), p.value().detach().clone());
  for (const auto& b : model.named_buffers()) copy.emplace_back(b.key(), b.value().detach().clone());
  return copy;
}

void load_weights(torch::nn::Module& model, const Weights& weights) {
  std::map<std::string, torch::Tensor> live;
  for (const auto& p : model.named_parameters()) live[p.key()] = p.value();
  for (const auto& b : model.named_buffers()) live[b.key()] = b.value();
  if (live.size() != weights.size()) fail("weights: ", weights.size(), " tensors for a model of ", live.size());
  torch::NoGradGuard no_grad;
  for (const auto& [name, value] : weights) {
    const auto target = live.find(name);
    if (target == live.end()) fail("weights: the model has no tensor '", name, "'");
    if (target->second.sizes() != value.sizes()) {
      fail("weights: '", name, "' has sizes ", value.sizes(), ", the model's ", target->second.sizes());
    }
    target->second.copy_(value);
  }
}

std::string state_to_json(const TrainingState& s) {
  const EarlyStopping& e = s.early_stopping;
  const nlohmann::json j = {
      {"step", s.step},
      {"skipped_steps", s.skipped_steps},
      {"loader",
       {{"epoch", s.loader.epoch},
        {"step", s.loader.step},
        {"seed", s.loader.seed},
        {"global_batch_size", s.loader.global_batch_size},
        {"streams", s.loader.streams},
        {"shuffle", s.loader.shuffle}}},
      {"loss_sum", s.loss_sum},
      {"loss_count", s.loss_count},
      {"task_loss_sums", s.task_loss_sums},
      {"finished", s.finished},
      {"early_stopping",
       {{"best", e.best},
        {"evaluations_without_gain", e.evaluations_without_gain},
        {"best_step", e.best_step},
        {"best_valid", e.best_valid}}},
  };
  return j.dump();
}

TrainingState state_from_json(const std::string& text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    TrainingState s;
    s.step = j.at("step").get<int64_t>();
    s.skipped_steps = j.at("skipped_steps").get<int64_t>();
    const auto& l = j.at("loader");
    s.loader.epoch = l.at("epoch").get<int64_t>();
    s.loader.step = l.at("step").get<int64_t>();
    s.loader.seed = l.at("seed").get<uint64_t>();
    s.loader.global_batch_size = l.at("global_batch_size").get<int64_t>();
    s.loader.streams = l.at("streams").get<int64_t>();
    s.loader.shuffle = l.at("shuffle").get<bool>();
    s.loss_sum = j.at("loss_sum").get<double>();
    s.loss_count = j.at("loss_count").get<int64_t>();
    // Absent from checkpoints written before session tasks logged their losses.
    if (j.contains("task_loss_sums")) s.task_loss_sums = j.at("task_loss_sums").get<std::map<std::string, double>>();
    s.finished = j.at("finished").get<bool>();
    const auto& e = j.at("early_stopping");
    s.early_stopping.best = e.at("best").get<double>();
    s.early_stopping.evaluations_without_gain = e.at("evaluations_without_gain").get<int64_t>();
    s.early_stopping.best_step = e.at("best_step").get<int64_t>();
    s.early_stopping.best_valid = e.at("best_valid").get<std::map<std::string, double>>();
    return s;
  } catch (const nlohmann::json::exception& error) {
    fail("training state: malformed JSON (", error.what(), ")");
  }
}

}  // namespace seqrec::train
