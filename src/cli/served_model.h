// What evaluate and recommend share: a model file loaded into a job of one or more ranks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "seqrec/comm/communicator.h"
#include "seqrec/core/options.h"
#include "seqrec/model/recommender.h"
#include "seqrec/train/model_file.h"

namespace seqrec::cli {

struct ServingOptions {
  std::string model;                // model.h5
  int threads = 0;                  // 0: cores / ranks on the node
  std::string backend = "auto";
  int64_t shard_threshold = 100000;
  int64_t timeout_s = 600;
};

// Declares --model, --threads and --dist.* bound to `options`.
void describe_serving_options(po::options_description& d, ServingOptions& options);

struct ServedModel {
  std::shared_ptr<comm::Communicator> comm;
  train::ModelDescription description;
  model::Recommender recommender{nullptr};
};

// Needs an MpiEnvironment alive. Reads the model file (UserError naming it), builds the
// model with tables sharded as --dist.shard_threshold says and loads its weights.
ServedModel serve_model(const ServingOptions& options);

}  // namespace seqrec::cli
