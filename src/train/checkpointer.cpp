#include "seqrec/train/checkpointer.h"

#include "seqrec/core/error.h"
#include "seqrec/core/log.h"
#include "seqrec/core/options.h"
#include "seqrec/train/checkpoint_manifest.h"
#include "seqrec/train/checkpoint_reader.h"
#include "seqrec/train/checkpoint_snapshot.h"

namespace seqrec::train {

namespace fs = std::filesystem;

namespace {

// Rank 0's text on every rank.
std::string broadcast_text(const std::string& text, comm::Communicator& comm) {
  const auto options = torch::dtype(torch::kLong).device(comm.device());
  torch::Tensor length = torch::tensor({static_cast<int64_t>(text.size())}, options);
  comm.broadcast(length, 0);
  torch::Tensor chars = torch::zeros({std::max<int64_t>(1, length.item<int64_t>())}, torch::kLong);
  if (comm.rank() == 0) {
    for (size_t i = 0; i < text.size(); ++i) chars[static_cast<int64_t>(i)] = static_cast<unsigned char>(text[i]);
  }
  chars = chars.to(comm.device());
  comm.broadcast(chars, 0);
  chars = chars.cpu();
  std::string out(static_cast<size_t>(length.item<int64_t>()), '\0');
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(chars[static_cast<int64_t>(i)].item<int64_t>());
  return out;
}

// A run directory reused for another model would fail deep inside loading (other shapes)
// or, worse, go on training the old weights under other options. Options outside the
// model (epochs, patience, learning rate, data path, ranks) may change on a resume.
void check_same_model(const fs::path& step_dir, const std::string& config) {
  const std::string recorded_text = read_manifest(step_dir).config;
  if (config.empty() || recorded_text.empty()) return;
  const auto recorded = config_values(recorded_text);
  std::string changes;
  for (const auto& [name, value] : config_values(config)) {
    const bool shapes_the_model = name.rfind("model.", 0) == 0 || name == "data.max_seq_len";
    const auto was = recorded.find(name);
    if (!shapes_the_model || was == recorded.end() || was->second == value) continue;
    changes += str_cat(changes.empty() ? "" : ", ", name, " ", was->second, " -> ", value);
  }
  if (!changes.empty()) {
    fail(step_dir.string(), " was saved by a run of another model (", changes,
         "): resume with the model options it recorded, or start afresh in another --train.run_dir or with --resume never");
  }
}

double minutes_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::ratio<60>>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Checkpointer::Checkpointer(const CheckpointOptions& options, std::shared_ptr<comm::Communicator> comm,
                           torch::nn::Module& model, DistributedOptimizer& optimizer)
    : options_(options),
      comm_(std::move(comm)),
      model_(model),
      optimizer_(optimizer),
      store_(options.dir, options.keep),
      last_save_time_(std::chrono::steady_clock::now()) {
  if (options_.every_steps < 0) fail("checkpoint.every_steps must be 0 (off) or more (got ", options_.every_steps, ")");
  if (!(options_.every_minutes >= 0)) {
    fail("checkpoint.every_minutes must be 0 (off) or more (got ", options_.every_minutes, ")");
  }
}

Checkpointer::~Checkpointer() {
  // An exception is unwinding the loop: the write in flight is never committed.
  if (writer_.pending()) writer_.wait();
}

std::optional<TrainingState> Checkpointer::resume(uint64_t new_rank_seed) {
  std::string chosen, error;
  if (comm_->rank() == 0) {
    try {
      store_.remove_stale_staging();
      const std::optional<fs::path> path = choose_checkpoint(options_.resume, store_.dir());
      if (path) {
        check_same_model(*path, options_.config);
        chosen = path->string();
      }
    } catch (const UserError& e) {
      error = e.what();
    }
  }
  const std::string agreed = broadcast_text(error.empty() ? "+" + chosen : "!" + error, *comm_);
  if (agreed[0] == '!') fail(agreed.substr(1));
  if (agreed.size() == 1) {
    if (comm_->rank() == 0 && options_.resume == "auto") log::info("no checkpoint in ", store_.dir().string(), ": starting afresh");
    return std::nullopt;
  }
  const fs::path step_dir = agreed.substr(1);
  RestoredTraining restored = load_checkpoint(step_dir, model_, optimizer_, *comm_);
  if (restored.rng) {
    set_generator_state(torch::kCPU, *restored.rng);
    // A GPU's dropout draws from its own generator; a checkpoint of a CPU run has none.
    if (restored.device_rng && !comm_->device().is_cpu()) {
      set_generator_state(comm_->device(), *restored.device_rng);
    }
  } else {
    torch::manual_seed(new_rank_seed);
  }
  if (comm_->rank() == 0) {
    log::info("resumed from ", step_dir.string(), " (step ", restored.state.step, ", saved by ",
              restored.manifest.world_size, " rank(s)", restored.manifest.world_size != comm_->size()
                  ? str_cat("; sharded tables redistributed over ", comm_->size()) : std::string(), ")");
  }
  last_saved_step_ = restored.state.step;
  last_saved_finished_ = restored.state.finished;
  return restored.state;
}

bool Checkpointer::after_step(const TrainingState& state) {
  const bool minutes_due = options_.every_minutes > 0 && minutes_since(last_save_time_) >= options_.every_minutes;
  // One small all-reduce per step: any rank signalled, any rank's clock due, any rank's
  // write still running.
  torch::Tensor flags = torch::tensor({static_cast<int64_t>(signal_.requested()), static_cast<int64_t>(minutes_due),
                                       static_cast<int64_t>(writer_.pending() && !writer_.finished())},
                                      torch::dtype(torch::kLong).device(comm_->device()));
  comm_->all_reduce(flags, comm::ReduceOp::Max);
  flags = flags.cpu();
  const bool preempted = flags[0].item<int64_t>() != 0;
  const bool writing = flags[2].item<int64_t>() != 0;
  if (writer_.pending() && !writing) finish_pending();
  if (preempted) {
    if (comm_->rank() == 0) log::warn("preemption signal: saving step ", state.step, " and stopping");
    if (writer_.pending()) finish_pending();
    if (last_saved_step_ != state.step) save(state, /*synchronous=*/true);
    comm_->barrier();
    return true;
  }
  const bool steps_due = options_.every_steps > 0 && state.step % options_.every_steps == 0;
  if ((steps_due || flags[1].item<int64_t>() != 0) && last_saved_step_ != state.step) save(state, !options_.async);
  return false;
}

void Checkpointer::save_final(const TrainingState& state) {
  if (writer_.pending()) finish_pending();
  // A run resumed from its own final checkpoint has nothing new to save.
  if (last_saved_step_ != state.step || !last_saved_finished_) save(state, /*synchronous=*/true);
  comm_->barrier();
}

void Checkpointer::save(const TrainingState& state, bool synchronous) {
  if (writer_.pending()) finish_pending();
  if (comm_->rank() == 0) store_.begin(state.step);
  comm_->barrier();  // the staging directory exists before any rank writes into it
  const auto start = std::chrono::steady_clock::now();
  RankSnapshot snapshot = capture_snapshot(model_, optimizer_, state, comm_->rank(), comm_->size(), comm_->device());
  const double copy_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  pending_ = CheckpointManifest{};
  pending_.step = state.step;
  pending_.epoch = state.loader.epoch;
  pending_.world_size = comm_->size();
  pending_.config = options_.config;
  for (const auto& table : snapshot.tables) pending_.sharded_tables[table.name] = {table.rows, table.values.size(1)};
  if (comm_->rank() == 0) {
    log::info("checkpoint step ", state.step, ": state copied to host in ", copy_ms, " ms",
              synchronous ? "" : "; writing in the background");
  }
  writer_.start(store_.staging_dir(state.step), std::move(snapshot));
  last_saved_step_ = state.step;
  last_saved_finished_ = state.finished;
  last_save_time_ = std::chrono::steady_clock::now();
  if (synchronous) finish_pending();
}

void Checkpointer::finish_pending() {
  const std::optional<CheckpointFile> file = writer_.wait();
  const torch::Tensor mine = torch::tensor({static_cast<int64_t>(file.has_value()), file ? file->bytes : 0,
                                            file ? static_cast<int64_t>(file->crc32) : 0},
                                           torch::dtype(torch::kLong).device(comm_->device()));
  const torch::Tensor all = comm_->all_gather(mine).cpu().view({comm_->size(), 3});
  const bool complete = all.select(1, 0).min().item<int64_t>() == 1;
  if (!complete) {
    if (comm_->rank() == 0) {
      log::warn("checkpoint step ", pending_.step, " failed on some rank; keeping the previous checkpoint");
      store_.abandon(pending_.step);
    }
    last_saved_step_ = -1;
    return;
  }
  if (comm_->rank() != 0) return;
  for (int r = 0; r < comm_->size(); ++r) {
    pending_.files.push_back({checkpoint_rank_file(r), all[r][1].item<int64_t>(),
                              static_cast<uint32_t>(all[r][2].item<int64_t>())});
  }
  store_.commit(pending_);
  log::info("checkpoint step ", pending_.step, " saved in ", store_.step_dir(pending_.step).string());
}

}  // namespace seqrec::train
