// The options of `seqrec train`, which `seqrec bench` takes as well: a bench measures
// the configuration a training run would use.
#pragma once

#include <cstdint>
#include <string>

#include "dist_options.h"
#include "seqrec/core/options.h"
#include "seqrec/model/recommender.h"
#include "seqrec/train/trainer.h"

namespace seqrec::cli {

struct TrainCommandOptions {
  std::string data;
  std::string feature_dims;
  std::string tasks;
  std::string task_weights;
  DistOptions dist;
  model::ModelOptions model;
  train::TrainOptions train;
};

// One instance per process: Boost binds option values straight into its fields.
TrainCommandOptions& bound_train_options();

// Declares every train option (data., model., train., eval., checkpoint., dist., resume).
void describe_train_options(po::options_description& d);

// What train makes of its options after parsing, before building the model: feature
// dims, tasks and task weights parsed, the model seeded by train.seed.
void complete_model_options(TrainCommandOptions& o);

}  // namespace seqrec::cli
