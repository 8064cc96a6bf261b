// One rank's share of a checkpoint, copied to host memory: what the step spends on a
// save. Writing it (checkpoint_writer.h) can then overlap the following steps.
//
// Every rank holds the rows of its sharded tables with their global ids and row-wise
// optimizer state, the best weights' rows, and its torch generator state; rank 0 also
// holds the replicated parameters and buffers with their AdamW state and the best
// weights', and the training state.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "seqrec/train/distributed_optimizer.h"
#include "seqrec/train/training_state.h"

namespace seqrec::train {

struct TableSnapshot {
  std::string name;           // the parameter's name in the model
  int64_t rows = 0;           // global
  torch::Tensor ids;          // int64 [n]: the global id of each row below
  torch::Tensor values;       // [n, dim]
  torch::Tensor best_values;  // [n, dim]
  std::vector<std::pair<std::string, torch::Tensor>> optimizer;  // row-aligned ([n, ...])
  int64_t optimizer_step_count = 0;
};

struct DenseSnapshot {
  std::string name;           // parameter or buffer
  torch::Tensor value;
  torch::Tensor best_value;
  bool has_adamw = false;     // false for buffers and parameters not stepped yet
  int64_t adamw_step = 0;
  torch::Tensor exp_avg;
  torch::Tensor exp_avg_sq;
};

struct RankSnapshot {
  int rank = 0;
  int world_size = 1;
  int64_t step = 0;
  int64_t epoch = 0;
  std::vector<TableSnapshot> tables;
  std::vector<DenseSnapshot> dense;  // rank 0 only
  std::string training_state;        // rank 0 only: state_to_json
  torch::Tensor rng;                 // uint8: torch's default CPU generator
  torch::Tensor device_rng;          // uint8: the rank's GPU's default generator; undefined on the CPU
};

// `device`: where the model computes (comm.device()), whose generator dropout draws from.
RankSnapshot capture_snapshot(torch::nn::Module& model, DistributedOptimizer& optimizer,
                              const TrainingState& state, int rank, int world_size, torch::Device device);

// The state of torch's default generator of `device` (the CPU's or a GPU's), and setting
// it back.
torch::Tensor generator_state(torch::Device device);
void set_generator_state(torch::Device device, const torch::Tensor& state);

}  // namespace seqrec::train
