#include "seqrec/train/trainer.h"

#include <filesystem>
#include <optional>

#include "seqrec/core/error.h"
#include "seqrec/core/log.h"
#include "seqrec/core/rng.h"
#include "seqrec/core/threads.h"
#include "seqrec/data/loader.h"
#include "seqrec/model/session_metrics.h"
#include "seqrec/train/agreed_batches.h"
#include "seqrec/train/device_staging.h"
#include "seqrec/train/distributed_optimizer.h"
#include "seqrec/train/evaluator.h"
#include "seqrec/train/lr_schedule.h"
#include "seqrec/train/metrics_log.h"
#include "seqrec/train/train_step.h"

namespace seqrec::train {

namespace {

// A stream of derive_seed apart from train_step.h's step and dropout streams: dropout of
// a rank the resumed checkpoint lacks.
constexpr uint64_t kResumedRankStream = 3;
// Non-finite steps in a row after which training gives up.
constexpr int64_t kMaxSkippedInARow = 5;

CheckpointOptions checkpoint_options(const TrainOptions& o) {
  CheckpointOptions out = o.checkpoint;
  if (out.dir.empty()) out.dir = (std::filesystem::path(o.run_dir) / "ckpt").string();
  return out;
}

}  // namespace

OptimizerOptions optimizer_options(const TrainOptions& o) {
  OptimizerOptions out;
  out.lr = o.lr;
  out.weight_decay = o.weight_decay;
  out.beta2 = o.adam_beta2;
  out.clip_norm = o.clip_norm;
  out.sparse = o.sparse_optimizer;
  out.overlap = o.overlap_reduction;
  return out;
}

LoaderOptions loader_options(const TrainOptions& o, int64_t max_seq_len, const comm::Communicator& comm) {
  LoaderOptions out;
  out.global_batch_size = o.batch_size;
  out.collate.max_seq_len = max_seq_len;
  out.seed = o.seed;
  out.rank = comm.rank();
  out.world_size = comm.size();
  return out;
}

EvalOptions validation_options(const TrainOptions& o, int64_t max_seq_len) {
  EvalOptions out;
  out.split = kSplitValid;
  out.batch_size = o.eval_batch_size;
  out.max_seq_len = max_seq_len;
  out.ks = o.ks;
  out.exclude_history = o.exclude_history;
  out.sampled = o.sampled_eval;
  out.seed = o.seed;
  return out;
}

TrainResult train_model(model::Recommender& recommender, const Dataset& dataset, const TrainOptions& options,
                        int64_t max_seq_len, std::shared_ptr<comm::Communicator> comm) {
  if (options.batch_size < comm->size()) {
    fail("train.batch_size (", options.batch_size, ") must be at least the number of ranks (", comm->size(), ")");
  }
  if (options.epochs < 1) fail("train.epochs must be at least 1");
  const Precision precision = parse_precision(options.precision, "train.precision");
  const bool lead = comm->rank() == 0;
  const int threads = threads_per_rank(options.threads);
  configure_threads(threads);

  const LoaderOptions loading = loader_options(options, max_seq_len, *comm);
  Loader loader(dataset, loading);
  const Batch empty = collate(SessionBlock::empty(dataset.schema(), false), dataset.schema(), loading.collate);

  const int64_t steps_per_epoch = loader.batches_per_epoch();
  const int64_t total_steps = options.max_steps > 0 ? std::min(options.max_steps, options.epochs * steps_per_epoch)
                                                    : options.epochs * steps_per_epoch;
  const LrSchedule schedule(options.schedule, options.lr, options.warmup_steps, total_steps);
  DistributedOptimizer optimizer(*recommender, comm, optimizer_options(options));
  // The model started alike on every rank; dropout should not draw alike on every rank.
  torch::manual_seed(dropout_seed(options.seed, comm->rank()));

  EvalOptions eval = validation_options(options, max_seq_len);

  std::optional<MetricsLog> metrics_log;
  if (lead) {
    std::filesystem::create_directories(options.run_dir);
    metrics_log.emplace(std::filesystem::path(options.run_dir) / "metrics.jsonl");
    log::info("training on ", dataset.num_sessions(kSplitTrain), " sessions over ", comm->size(), " rank(s): ",
              steps_per_epoch, " steps per epoch, up to ", total_steps, " steps, ", threads,
              " threads per rank; run directory ", options.run_dir);
  }
  const auto record = [&](const std::string& event, int64_t step, int64_t epoch,
                          const std::map<std::string, double>& values) {
    if (metrics_log) metrics_log->write(event, step, epoch, values);
  };

  TrainingState state;
  state.loader = loader.state();
  state.early_stopping.best_weights = copy_weights(*recommender);
  Checkpointer checkpointer(checkpoint_options(options), comm, *recommender, optimizer);
  if (auto resumed = checkpointer.resume(
          derive_seed(options.seed, {kResumedRankStream, static_cast<uint64_t>(comm->rank())}))) {
    state = std::move(*resumed);
    loader.restore(state.loader);
  }
  EarlyStopping& early = state.early_stopping;
  TrainResult result;
  const auto steps_done = [&] { return options.max_steps > 0 && state.step >= options.max_steps; };
  // A run that ended goes on when its limits have been raised since (epochs, max_steps,
  // patience); otherwise its checkpoint only reports its test metrics again.
  if (state.finished && !steps_done() && state.loader.epoch < options.epochs &&
      !(options.patience > 0 && early.evaluations_without_gain >= options.patience)) {
    state.finished = false;
    if (lead) log::info("the resumed run had ended; its limits are higher now: training goes on");
  }

  auto validate = [&](int64_t step, int64_t epoch) {
    const auto metrics = evaluate(recommender, dataset, eval, *comm);
    if (!metrics.count(options.monitor)) {
      std::string names;
      for (const auto& entry : metrics) names += (names.empty() ? "" : ", ") + entry.first;
      fail("train.monitor: no metric '", options.monitor, "' (valid: ", names, ")");
    }
    record("valid", step, epoch, metrics);
    const double value = metrics.at(options.monitor);
    // The first evaluation is the best so far whatever its value (an error may exceed any start).
    const bool improved = early.best_valid.empty() ||
                          (model::lower_is_better(options.monitor) ? value < early.best : value > early.best);
    if (lead) log::info("step ", step, " epoch ", epoch, " valid ", headline(metrics), improved ? "  (best)" : "");
    if (improved) {
      early.best = value;
      early.best_step = step;
      early.best_valid = metrics;
      early.best_weights = copy_weights(*recommender);
      early.evaluations_without_gain = 0;
    } else if (options.patience > 0 && ++early.evaluations_without_gain >= options.patience) {
      if (lead) log::info("no gain in ", options.monitor, " for ", options.patience, " evaluations: stopping");
      state.finished = true;
    }
  };

  recommender->train();
  DeviceStaging staging(comm->device());
  int64_t skipped_in_a_row = 0;
  for (int64_t epoch = state.loader.epoch; epoch < options.epochs && !state.finished; ++epoch) {
    log::Progress progress("epoch " + std::to_string(epoch), steps_per_epoch, "steps");
    // The loader's step counts within its epoch: a resumed epoch goes on from it, a new one starts at 0.
    int64_t epoch_step = state.loader.epoch == epoch ? state.loader.step : 0;
    while (auto batch = next_agreed([&] { return loader.next(); }, empty, *comm)) {
      if (state.finished || steps_done()) break;
      const int64_t step = state.step;
      optimizer.set_lr(schedule.at(step));
      const StepOutcome outcome =
          train_step(*recommender, staging.stage(*batch), step_seed(options.seed, step), optimizer, *comm, precision);
      if (outcome.skipped) {
        ++state.skipped_steps;
        if (lead) log::warn("step ", step, ": loss is ", outcome.loss, " on some rank; step skipped");
        if (++skipped_in_a_row >= kMaxSkippedInARow) {
          fail("training diverged: ", kMaxSkippedInARow, " steps in a row with a non-finite loss (lower train.lr?)");
        }
        continue;
      }
      skipped_in_a_row = 0;
      const double loss = outcome.loss;
      result.losses.push_back(loss);
      state.loss_sum += loss;
      ++state.loss_count;
      for (const auto& [task, mean] : outcome.task_losses) state.task_loss_sums[task] += mean;
      ++state.step;
      ++epoch_step;
      progress.update(epoch_step, "loss " + std::to_string(loss));
      if (options.log_every > 0 && state.step % options.log_every == 0) {
        std::map<std::string, double> values = {{"loss", state.loss_sum / state.loss_count},
                                                {"lr", schedule.at(state.step - 1)}};
        for (const auto& [task, sum] : state.task_loss_sums) values[task + "/loss"] = sum / state.loss_count;
        record("train", state.step, epoch, values);
        state.loss_sum = 0;
        state.loss_count = 0;
        state.task_loss_sums.clear();
      }
      if (options.eval_every > 0 && state.step % options.eval_every == 0) validate(state.step, epoch);
      state.loader = loader.state();
      if (checkpointer.after_step(state)) {
        result.preempted = true;
        result.steps = state.step;
        return result;
      }
    }
    progress.finish();
    if (options.eval_every == 0 && !state.finished) validate(state.step, epoch);
    if (steps_done()) break;
  }
  state.finished = true;
  state.loader = loader.state();
  checkpointer.save_final(state);
  result.steps = state.step;
  result.skipped_steps = state.skipped_steps;
  result.best_step = early.best_step;
  result.best_valid = early.best_valid;

  load_weights(*recommender, early.best_weights);
  eval.split = kSplitTest;
  result.test = evaluate(recommender, dataset, eval, *comm);
  result.popularity_test = evaluate_popularity(dataset, eval, *comm);
  record("test", result.best_step, -1, result.test);
  record("test_popularity", result.best_step, -1, result.popularity_test);
  if (lead) {
    log::info("test (best step ", result.best_step, ")  model: ", headline(result.test));
    log::info("test                  most popular: ", headline(result.popularity_test));
  }
  return result;
}

}  // namespace seqrec::train
