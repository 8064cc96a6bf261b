// The training loop: one model spread over the ranks of a communicator (one rank alone
// is the same loop).
//
// Each step: every rank takes its share of the global batch -> the model's masked loss
// summed over its labelled positions -> divided by the global count of labelled
// positions -> backward -> DistributedOptimizer (gradients summed over ranks, global-norm
// clipping, AdamW on replicated parameters, row-wise Adam on sharded tables) with the
// scheduled learning rate. Masks and negatives are keyed by (seed, step, session, slot),
// so the same global batch size on N ranks trains the same model as on one (without
// dropout, whose masks are each rank's own draws). A step whose loss is not finite on
// some rank is skipped by all of them.
//
// Validation every `eval_every` steps (0: after each epoch) with full-catalog ranking;
// the best weights by `monitor` are kept, training stops after `patience` evaluations
// without improvement, and the best weights are scored on the test split next to the
// most-popular baseline. Rank 0 writes <run_dir>/metrics.jsonl, one JSON object per line.
//
// Checkpoints (checkpointer.h): resumed at the start as checkpoint.resume says, saved
// every checkpoint.every_steps steps / every_minutes minutes and at the end; a SIGTERM or
// SIGUSR1 saves and returns early with `preempted` set. A resumed run ends bit for bit as
// the uninterrupted one would (same rank count, CPU).
//
// Seed torch's generator alike on every rank before building the model, so replicated
// parameters start equal (they are also broadcast from rank 0).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "seqrec/comm/communicator.h"
#include "seqrec/data/dataset.h"
#include "seqrec/data/loader.h"
#include "seqrec/model/recommender.h"
#include "seqrec/train/checkpointer.h"
#include "seqrec/train/distributed_optimizer.h"
#include "seqrec/train/evaluator.h"

namespace seqrec::train {

struct TrainOptions {
  int64_t epochs = 200;
  int64_t max_steps = 0;             // 0: no limit besides epochs
  int64_t batch_size = 128;          // global: sessions per step over all ranks
  double lr = 1e-3;
  double weight_decay = 0.0;
  double adam_beta2 = 0.98;          // SASRec's; 0.999 (LibTorch's default) adapts slower to rare items
  std::string schedule = "constant"; // constant | linear | cosine
  int64_t warmup_steps = 0;
  double clip_norm = 1.0;            // 0: no clipping
  std::string sparse_optimizer = "adam";  // of sharded tables: adam (every row) | lazy-adam | adagrad
  bool overlap_reduction = true;     // dense gradient all-reduces start during backward
  std::string precision = "fp32";    // of the forward pass: fp32 | bf16 (autocast, float32 weights)
  int64_t eval_every = 0;            // steps; 0: after each epoch
  int64_t eval_batch_size = 256;
  std::string monitor = "ndcg@10";   // any validation metric; rmse, mae and log_loss are minimised
  SampledProtocol sampled_eval;      // also the sampled protocol's metrics (sampled_ndcg@10, ...)
  int64_t patience = 10;             // evaluations without improvement before stopping; 0: never
  bool exclude_history = false;
  std::vector<int64_t> ks = {1, 5, 10, 20};
  int64_t log_every = 100;           // steps between loss lines
  uint64_t seed = 42;
  int threads = 0;                   // 0: cores / ranks on this node
  std::string run_dir = "runs/latest";
  CheckpointOptions checkpoint;      // dir empty: <run_dir>/ckpt
};

struct TrainResult {
  int64_t steps = 0;
  int64_t skipped_steps = 0;         // non-finite loss on some rank
  int64_t best_step = 0;
  std::map<std::string, double> best_valid;
  std::map<std::string, double> test;
  std::map<std::string, double> popularity_test;
  std::vector<double> losses;        // the global mean loss of every step this process took
  bool preempted = false;            // stopped by a signal after saving; no test metrics
};

// What train_model makes of its options (seqrec bench makes the same): the optimizer's,
// this rank's loader's, and the validation's.
OptimizerOptions optimizer_options(const TrainOptions& options);
LoaderOptions loader_options(const TrainOptions& options, int64_t max_seq_len, const comm::Communicator& comm);
EvalOptions validation_options(const TrainOptions& options, int64_t max_seq_len);

TrainResult train_model(model::Recommender& recommender, const Dataset& dataset, const TrainOptions& options,
                        int64_t max_seq_len, std::shared_ptr<comm::Communicator> comm);

}  // namespace seqrec::train
