#include "seqrec/train/trainer.h"

#include <filesystem>

#include "seqrec/core/error.h"
#include "seqrec/core/log.h"
#include "seqrec/core/threads.h"
#include "seqrec/data/loader.h"
#include "seqrec/train/evaluator.h"
#include "seqrec/train/lr_schedule.h"
#include "seqrec/train/metrics_log.h"

namespace seqrec::train {

namespace {

using Snapshot = std::vector<torch::Tensor>;

Snapshot snapshot(model::Recommender& recommender) {
  Snapshot copy;
  for (const auto& p : recommender->parameters()) copy.push_back(p.detach().clone());
  for (const auto& b : recommender->buffers()) copy.push_back(b.detach().clone());
  return copy;
}

void restore(model::Recommender& recommender, const Snapshot& copy) {
  torch::NoGradGuard no_grad;
  size_t i = 0;
  for (auto& p : recommender->parameters()) p.copy_(copy[i++]);
  for (auto& b : recommender->buffers()) b.copy_(copy[i++]);
}

void set_learning_rate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

}  // namespace

TrainResult train_model(model::Recommender& recommender, const Dataset& dataset, const TrainOptions& options,
                        int64_t max_seq_len) {
  if (options.batch_size < 1) fail("train.batch_size must be at least 1");
  if (options.epochs < 1) fail("train.epochs must be at least 1");
  std::filesystem::create_directories(options.run_dir);
  const int threads = threads_per_rank(options.threads);
  configure_threads(threads);

  LoaderOptions loader_options;
  loader_options.global_batch_size = options.batch_size;
  loader_options.collate.max_seq_len = max_seq_len;
  loader_options.seed = options.seed;
  Loader loader(dataset, loader_options);

  const int64_t steps_per_epoch = loader.batches_per_epoch();
  const int64_t total_steps =
      options.max_steps > 0 ? std::min(options.max_steps, options.epochs * steps_per_epoch) : options.epochs * steps_per_epoch;
  const LrSchedule schedule(options.schedule, options.lr, options.warmup_steps, total_steps);
  torch::optim::AdamW optimizer(recommender->parameters(),
                                torch::optim::AdamWOptions(options.lr).weight_decay(options.weight_decay));

  EvalOptions eval;
  eval.split = kSplitValid;
  eval.batch_size = options.eval_batch_size;
  eval.max_seq_len = max_seq_len;
  eval.ks = options.ks;
  eval.exclude_history = options.exclude_history;

  MetricsLog metrics_log(std::filesystem::path(options.run_dir) / "metrics.jsonl");
  log::info("training on ", dataset.num_sessions(kSplitTrain), " sessions: ", steps_per_epoch, " steps per epoch, up to ",
            total_steps, " steps, ", threads, " threads; run directory ", options.run_dir);

  TrainResult result;
  double best = -1;
  int64_t evaluations_without_gain = 0;
  Snapshot best_weights = snapshot(recommender);
  bool stop = false;

  auto validate = [&](int64_t step, int64_t epoch) {
    const auto metrics = evaluate(recommender, dataset, eval);
    metrics_log.write("valid", step, epoch, metrics);
    const double value = metrics.count(options.monitor) ? metrics.at(options.monitor) : -1;
    if (!metrics.count(options.monitor)) fail("train.monitor: no metric '", options.monitor, "'");
    const bool improved = value > best;
    log::info("step ", step, " epoch ", epoch, " valid ", headline(metrics), improved ? "  (best)" : "");
    if (improved) {
      best = value;
      result.best_step = step;
      result.best_valid = metrics;
      best_weights = snapshot(recommender);
      evaluations_without_gain = 0;
    } else if (options.patience > 0 && ++evaluations_without_gain >= options.patience) {
      log::info("no gain in ", options.monitor, " for ", options.patience, " evaluations: stopping");
      stop = true;
    }
  };

  recommender->train();
  int64_t step = 0;
  double loss_sum = 0;
  int64_t loss_count = 0;
  for (int64_t epoch = 0; epoch < options.epochs && !stop; ++epoch) {
    log::Progress progress("epoch " + std::to_string(epoch), steps_per_epoch, "steps");
    int64_t epoch_step = 0;
    while (auto batch = loader.next()) {
      if (stop || (options.max_steps > 0 && step >= options.max_steps)) break;
      set_learning_rate(optimizer, schedule.at(step));
      const model::LossOutput out = recommender->training_loss(*batch);
      optimizer.zero_grad();
      out.loss.backward();
      if (options.clip_norm > 0) torch::nn::utils::clip_grad_norm_(recommender->parameters(), options.clip_norm);
      optimizer.step();

      const double loss = out.loss.item<double>();
      if (!std::isfinite(loss)) fail("training diverged: loss is ", loss, " at step ", step, " (lower train.lr?)");
      loss_sum += loss;
      ++loss_count;
      ++step;
      ++epoch_step;
      progress.update(epoch_step, "loss " + std::to_string(loss));
      if (options.log_every > 0 && step % options.log_every == 0) {
        metrics_log.write("train", step, epoch, {{"loss", loss_sum / loss_count}, {"lr", schedule.at(step - 1)}});
        loss_sum = 0;
        loss_count = 0;
      }
      if (options.eval_every > 0 && step % options.eval_every == 0) validate(step, epoch);
    }
    progress.finish();
    if (options.eval_every == 0 && !stop) validate(step, epoch);
    if (options.max_steps > 0 && step >= options.max_steps) break;
  }
  result.steps = step;

  restore(recommender, best_weights);
  eval.split = kSplitTest;
  result.test = evaluate(recommender, dataset, eval);
  result.popularity_test = evaluate_popularity(dataset, eval);
  metrics_log.write("test", result.best_step, -1, result.test);
  metrics_log.write("test_popularity", result.best_step, -1, result.popularity_test);
  log::info("test (best step ", result.best_step, ")  model: ", headline(result.test));
  log::info("test                  most popular: ", headline(result.popularity_test));
  return result;
}

}  // namespace seqrec::train
