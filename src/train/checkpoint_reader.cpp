#include "seqrec/train/checkpoint_reader.h"

#include <map>
#include <numeric>
#include <vector>

#include "checkpoint_tensors.h"
#include "seqrec/core/error.h"
#include "seqrec/data/hdf5_file.h"
#include "seqrec/parallel/parameter_groups.h"
#include "seqrec/train/checkpoint_snapshot.h"
#include "seqrec/train/dense_optimizer_state.h"

namespace seqrec::train {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kRowsPerRead = 65536;
const std::string kShardSuffix = ".shard";

// Rows of one table to fill, by global id: row `id` goes to local row id / world of the
// rank id % world (world 1: every row, as a local table holds them).
struct RowTarget {
  int world = 1;
  int rank = 0;
  int64_t local_rows = 0;
  std::vector<std::pair<std::string, torch::Tensor>> datasets;  // dataset name -> tensor [local_rows, ...]
};

void fill_rows(const fs::path& step_dir, const CheckpointManifest& manifest, const std::string& table,
               const RowTarget& target) {
  torch::NoGradGuard no_grad;
  const int old_world = manifest.world_size;
  const int64_t common = std::gcd<int64_t>(old_world, target.world);
  int64_t filled = 0;
  for (int old_rank = 0; old_rank < old_world; ++old_rank) {
    // Old rank r' holds ids = r' (mod old_world); some = rank (mod world) only if
    // r' = rank (mod gcd).
    if ((target.rank - old_rank) % common != 0) continue;
    const h5::File file = h5::File::open_read_only((step_dir / manifest.files.at(old_rank).name).string());
    const std::string group = "/tables/" + table + "/";
    const int64_t rows = file.shape(group + "ids").at(0);
    for (int64_t begin = 0; begin < rows; begin += kRowsPerRead) {
      const int64_t end = std::min(rows, begin + kRowsPerRead);
      const torch::Tensor ids = detail::read_tensor_rows(file, group + "ids", torch::kLong, begin, end);
      const torch::Tensor mine = (ids.remainder(target.world) == target.rank).nonzero().squeeze(1);
      if (mine.numel() == 0) continue;
      const torch::Tensor local = ids.index_select(0, mine).div(target.world, "floor");
      if (local.max().item<int64_t>() >= target.local_rows) {
        fail("checkpoint file '", file.path(), "': table '", table, "' has ids beyond the model's rows");
      }
      const torch::Tensor local_on_device = local.to(target.datasets.front().second.device());
      for (const auto& [name, tensor] : target.datasets) {
        std::vector<int64_t> row_shape = tensor.sizes().vec();
        row_shape[0] = mine.numel();
        const torch::Tensor values =
            detail::read_tensor_rows(file, group + name, tensor.scalar_type(), begin, end).index_select(0, mine);
        if (values.numel() != mine.numel() * (tensor.numel() / std::max<int64_t>(1, tensor.size(0)))) {
          fail("checkpoint file '", file.path(), "': '", group + name, "' does not fit the model's ", tensor.sizes());
        }
        tensor.index_copy_(0, local_on_device, values.reshape(row_shape).to(tensor.device()));
      }
      filled += mine.numel();
    }
  }
  if (filled != target.local_rows) {
    fail("checkpoint '", step_dir.string(), "': found ", filled, " of the ", target.local_rows, " rows of table '",
         table, "' this rank needs");
  }
}

std::map<std::string, torch::Tensor> named_tensors(torch::nn::Module& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : model.named_parameters()) out[p.key()] = p.value();
  for (const auto& b : model.named_buffers()) out[b.key()] = b.value();
  return out;
}

void check_table(const CheckpointManifest& m, const fs::path& step_dir, const std::string& name, int64_t rows,
                 int64_t dim) {
  const auto found = m.sharded_tables.find(name);
  if (found == m.sharded_tables.end()) {
    fail("checkpoint '", step_dir.string(), "' has no sharded table '", name, "' (another model or dist.shard_threshold?)");
  }
  if (found->second.rows != rows || found->second.dim != dim) {
    fail("checkpoint '", step_dir.string(), "': table '", name, "' is [", found->second.rows, ", ", found->second.dim,
         "], the model's [", rows, ", ", dim, "]");
  }
}

// A dense tensor of rank 0's file into `target` (same number of elements and shape).
void read_dense(const h5::File& file, const std::string& path, const torch::Tensor& target) {
  torch::NoGradGuard no_grad;
  const torch::Tensor values = detail::read_tensor(file, path, target.scalar_type());
  if (values.numel() != target.numel()) {
    fail("checkpoint file '", file.path(), "': '", path, "' has ", values.numel(), " values, the model's tensor ",
         target.sizes());
  }
  target.detach().copy_(values.view(target.sizes()));
}

// Where a dense tensor of the model is in a checkpoint: in rank 0's file, or (a local
// table "x.weight" of a model whose checkpoint sharded it as "x.shard") as a table.
std::optional<std::string> saved_as_table(const CheckpointManifest& m, const std::string& name) {
  const std::string suffix = ".weight";
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return std::nullopt;
  }
  const std::string table = name.substr(0, name.size() - suffix.size()) + kShardSuffix;
  if (!m.sharded_tables.count(table)) return std::nullopt;
  return table;
}

// Loads the model's weights (take_best: the best validated ones instead of the last) and,
// when best_out is given, also the best weights into it. world/rank: how the model's
// sharded tables are spread.
void load_model(const fs::path& step_dir, const CheckpointManifest& m, torch::nn::Module& model, int world, int rank,
                bool take_best, Weights* best_out) {
  torch::NoGradGuard no_grad;
  const parallel::ParameterGroups groups = parallel::parameter_groups(model);
  std::map<const void*, std::shared_ptr<parallel::ShardedEmbeddingTableImpl>> sharded;
  for (const auto& table : groups.sharded) sharded[table->shard().unsafeGetTensorImpl()] = table;
  const std::string value_name = take_best ? "best_value" : "value";
  const std::string rows_name = take_best ? "best_values" : "values";

  const h5::File lead = h5::File::open_read_only((step_dir / m.files.at(0).name).string());
  std::map<std::string, torch::Tensor> best;
  for (const auto& [name, tensor] : named_tensors(model)) {
    torch::Tensor best_copy = best_out ? torch::empty_like(tensor) : torch::Tensor();
    const auto table = sharded.find(tensor.unsafeGetTensorImpl());
    const std::optional<std::string> as_table =
        table == sharded.end() && !lead.exists("/dense/" + name) ? saved_as_table(m, name) : std::nullopt;
    if (table != sharded.end() || as_table) {
      const std::string saved = as_table ? *as_table : name;
      check_table(m, step_dir, saved, as_table ? tensor.size(0) : table->second->rows(), tensor.size(1));
      RowTarget target;
      target.world = as_table ? 1 : world;
      target.rank = as_table ? 0 : rank;
      target.local_rows = tensor.size(0);
      target.datasets.emplace_back(rows_name, tensor.detach());
      if (best_out) target.datasets.emplace_back("best_values", best_copy);
      fill_rows(step_dir, m, saved, target);
    } else {
      read_dense(lead, "/dense/" + name + "/" + value_name, tensor);
      if (best_out) read_dense(lead, "/dense/" + name + "/best_value", best_copy);
    }
    if (best_out) best[name] = best_copy;
  }
  if (!best_out) return;
  // In the model's order, as copy_weights gives them.
  best_out->clear();
  for (const auto& p : model.named_parameters()) best_out->emplace_back(p.key(), best.at(p.key()));
  for (const auto& b : model.named_buffers()) best_out->emplace_back(b.key(), best.at(b.key()));
}

void load_optimizer(const fs::path& step_dir, const CheckpointManifest& m, torch::nn::Module& model,
                    DistributedOptimizer& optimizer, int world, int rank) {
  torch::NoGradGuard no_grad;
  std::map<const void*, std::string> names;
  for (const auto& p : model.named_parameters()) names[p.value().unsafeGetTensorImpl()] = p.key();
  const h5::File lead = h5::File::open_read_only((step_dir / m.files.at(0).name).string());
  for (const torch::Tensor& p : optimizer.groups().replicated) {
    const std::string group = "/dense/" + names.at(p.unsafeGetTensorImpl()) + "/adamw/";
    if (!lead.exists("/dense/" + names.at(p.unsafeGetTensorImpl()) + "/adamw")) continue;
    auto state = std::make_unique<torch::optim::AdamWParamState>();
    state->step(detail::read_tensor(lead, group + "step", torch::kLong)[0].item<int64_t>());
    state->exp_avg(torch::empty_like(p, torch::MemoryFormat::Preserve));
    state->exp_avg_sq(torch::empty_like(p, torch::MemoryFormat::Preserve));
    read_dense(lead, group + "exp_avg", state->exp_avg());
    read_dense(lead, group + "exp_avg_sq", state->exp_avg_sq());
    set_adamw_state(optimizer.dense(), p, std::move(state));
  }
  const auto& tables = optimizer.groups().sharded;
  for (size_t i = 0; i < tables.size(); ++i) {
    const std::string name = names.at(tables[i]->shard().unsafeGetTensorImpl());
    parallel::RowSparseOptimizer& sparse = optimizer.sparse(i);
    RowTarget target;
    target.world = world;
    target.rank = rank;
    target.local_rows = tables[i]->local_rows();
    for (const auto& [state_name, tensor] : sparse.state()) target.datasets.emplace_back("optimizer/" + state_name, tensor);
    fill_rows(step_dir, m, name, target);
    const h5::File first = h5::File::open_read_only((step_dir / m.files.at(0).name).string());
    sparse.set_step_count(
        detail::read_tensor(first, "/tables/" + name + "/optimizer_step_count", torch::kLong)[0].item<int64_t>());
  }
}

}  // namespace

RestoredTraining load_checkpoint(const fs::path& step_dir, torch::nn::Module& model, DistributedOptimizer& optimizer,
                                 comm::Communicator& comm) {
  RestoredTraining out;
  out.manifest = read_manifest(step_dir);
  const h5::File lead = h5::File::open_read_only((step_dir / out.manifest.files.at(0).name).string());
  if (!lead.has_attribute("training_state")) {
    fail("checkpoint file '", lead.path(), "' has no training state (not rank 0's file?)");
  }
  out.state = state_from_json(lead.string_attribute("training_state"));
  load_model(step_dir, out.manifest, model, comm.size(), comm.rank(), false, &out.state.early_stopping.best_weights);
  load_optimizer(step_dir, out.manifest, model, optimizer, comm.size(), comm.rank());
  if (comm.rank() < out.manifest.world_size) {
    const h5::File mine = h5::File::open_read_only((step_dir / out.manifest.files.at(comm.rank()).name).string());
    out.rng = detail::read_tensor(mine, "/rng/torch_cpu", torch::kByte);
    if (mine.exists("/rng/torch_device")) {
      out.device_rng = detail::read_tensor(mine, "/rng/torch_device", torch::kByte);
    }
  }
  return out;
}

void load_checkpoint_weights(const fs::path& step_dir, model::RecommenderImpl& model, comm::Communicator& comm,
                             bool best) {
  const CheckpointManifest manifest = verify_checkpoint(step_dir);
  load_model(step_dir, manifest, model, comm.size(), comm.rank(), best, nullptr);
}

std::string checkpoint_config(const fs::path& step_dir) { return read_manifest(step_dir).config; }

}  // namespace seqrec::train
