// The training loop: one process, one model, one data set.
//
// Each step: next batch -> model's masked loss -> backward -> clip -> AdamW with the
// scheduled learning rate. Validation every `eval_every` steps (0: after each epoch)
// with full-catalog ranking; the best weights by `monitor` are kept, training stops
// after `patience` evaluations without improvement, and the best weights are scored
// on the test split next to the most-popular baseline. Everything measured goes to
// <run_dir>/metrics.jsonl, one JSON object per line.
//
// Dropout, masks and negatives draw from torch's global generator, as does the model's
// initialisation: seed it (torch::manual_seed) before building the model, and a CPU run
// repeats bit for bit. `seed` here drives the data order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "seqrec/data/dataset.h"
#include "seqrec/model/recommender.h"

namespace seqrec::train {

struct TrainOptions {
  int64_t epochs = 200;
  int64_t max_steps = 0;             // 0: no limit besides epochs
  int64_t batch_size = 128;          // global: sessions per step
  double lr = 1e-3;
  double weight_decay = 0.0;
  std::string schedule = "constant"; // constant | linear | cosine
  int64_t warmup_steps = 0;
  double clip_norm = 1.0;            // 0: no clipping
  int64_t eval_every = 0;            // steps; 0: after each epoch
  int64_t eval_batch_size = 256;
  std::string monitor = "ndcg@10";
  int64_t patience = 10;             // evaluations without improvement before stopping; 0: never
  bool exclude_history = false;
  std::vector<int64_t> ks = {1, 5, 10, 20};
  int64_t log_every = 100;           // steps between loss lines
  uint64_t seed = 42;
  int threads = 0;                   // 0: cores / ranks on this node
  std::string run_dir = "runs/latest";
};

struct TrainResult {
  int64_t steps = 0;
  int64_t best_step = 0;
  std::map<std::string, double> best_valid;
  std::map<std::string, double> test;
  std::map<std::string, double> popularity_test;
};

TrainResult train_model(model::Recommender& recommender, const Dataset& dataset, const TrainOptions& options,
                        int64_t max_seq_len);

}  // namespace seqrec::train
