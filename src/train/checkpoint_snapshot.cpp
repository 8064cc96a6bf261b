#include "seqrec/train/checkpoint_snapshot.h"

#include <ATen/Context.h>

#include <map>
#include <mutex>

#include "seqrec/core/error.h"
#include "seqrec/train/dense_optimizer_state.h"

namespace seqrec::train {

namespace {

torch::Tensor host_copy(const torch::Tensor& t) { return t.detach().to(torch::kCPU, /*non_blocking=*/false, /*copy=*/true).contiguous(); }

std::map<std::string, torch::Tensor> by_name(const Weights& weights) {
  return std::map<std::string, torch::Tensor>(weights.begin(), weights.end());
}

}  // namespace

torch::Tensor generator_state(torch::Device device) {
  at::Generator generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_generator_state(torch::Device device, const torch::Tensor& state) {
  at::Generator generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

RankSnapshot capture_snapshot(torch::nn::Module& model, DistributedOptimizer& optimizer, const TrainingState& state,
                              int rank, int world_size, torch::Device device) {
  RankSnapshot s;
  s.rank = rank;
  s.world_size = world_size;
  s.step = state.step;
  s.epoch = state.loader.epoch;
  s.rng = generator_state(torch::kCPU).clone();
  if (!device.is_cpu()) s.device_rng = generator_state(device).clone();
  const std::map<std::string, torch::Tensor> best = by_name(state.early_stopping.best_weights);
  const auto best_of = [&](const std::string& name) {
    const auto found = best.find(name);
    if (found == best.end()) fail("checkpoint: the best weights lack '", name, "'");
    return host_copy(found->second);
  };

  std::map<const void*, std::string> names;
  for (const auto& p : model.named_parameters()) names[p.value().unsafeGetTensorImpl()] = p.key();
  const parallel::ParameterGroups& groups = optimizer.groups();
  for (size_t i = 0; i < groups.sharded.size(); ++i) {
    const auto& table = groups.sharded[i];
    TableSnapshot t;
    t.name = names.at(table->shard().unsafeGetTensorImpl());
    t.rows = table->rows();
    t.ids = host_copy(table->global_ids());
    t.values = host_copy(table->shard());
    t.best_values = best_of(t.name);
    parallel::RowSparseOptimizer& sparse = optimizer.sparse(i);
    for (const auto& [state_name, tensor] : sparse.state()) t.optimizer.emplace_back(state_name, host_copy(tensor));
    t.optimizer_step_count = sparse.step_count();
    s.tables.push_back(std::move(t));
  }
  if (rank != 0) return s;

  s.training_state = state_to_json(state);
  for (const torch::Tensor& p : groups.replicated) {
    DenseSnapshot d;
    d.name = names.at(p.unsafeGetTensorImpl());
    d.value = host_copy(p);
    d.best_value = best_of(d.name);
    if (const auto* adamw = find_adamw_state(optimizer.dense(), p)) {
      d.has_adamw = true;
      d.adamw_step = adamw->step();
      d.exp_avg = host_copy(adamw->exp_avg());
      d.exp_avg_sq = host_copy(adamw->exp_avg_sq());
    }
    s.dense.push_back(std::move(d));
  }
  for (const auto& b : model.named_buffers()) {
    DenseSnapshot d;
    d.name = b.key();
    d.value = host_copy(b.value());
    d.best_value = best_of(d.name);
    s.dense.push_back(std::move(d));
  }
  return s;
}

}  // namespace seqrec::train
