// What the training loop holds besides the model and the optimizer, as a checkpoint
// needs it to continue exactly: counters, the loader's position, the running loss of the
// current log interval and early stopping (the best weights included, so that the test
// after a resumed run scores the weights the uninterrupted run would).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "seqrec/data/loader.h"

namespace seqrec::train {

// A model's parameters then buffers on this rank, by name; a sharded table's entry holds
// this rank's rows.
using Weights = std::vector<std::pair<std::string, torch::Tensor>>;

Weights copy_weights(torch::nn::Module& model);
// Copies `weights` into the model's tensors of the same names (all of them, same shapes).
void load_weights(torch::nn::Module& model, const Weights& weights);

struct EarlyStopping {
  double best = -1;                  // best value of the monitored metric so far
  int64_t evaluations_without_gain = 0;
  int64_t best_step = 0;
  std::map<std::string, double> best_valid;
  Weights best_weights;              // kept apart from the JSON below: tensors
};

struct TrainingState {
  int64_t step = 0;                  // optimizer steps taken; the LR schedule is a function of it
  int64_t skipped_steps = 0;
  LoaderState loader;                // the next batch: its epoch and position in it
  double loss_sum = 0;               // the metrics log's current interval
  int64_t loss_count = 0;
  std::map<std::string, double> task_loss_sums;  // each session task's unweighted mean, summed likewise
  bool finished = false;             // the loop is over (steps, epochs or patience spent)
  EarlyStopping early_stopping;
};

// The scalars of a state (everything but the best weights) as JSON text and back; doubles
// round-trip exactly.
std::string state_to_json(const TrainingState& state);
TrainingState state_from_json(const std::string& text);  // UserError if malformed

}  // namespace seqrec::train
