// What evaluate and recommend share: a model file loaded into a job of one or more ranks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "dist_options.h"
#include "seqrec/comm/communicator.h"
#include "seqrec/core/options.h"
#include "seqrec/model/recommender.h"
#include "seqrec/train/model_file.h"

namespace seqrec::cli {

struct ServingOptions {
  std::string model;                // model.h5, or a checkpoint (step directory or checkpoint directory)
  std::string weights = "best";     // of a checkpoint: best (validated) | last
  int threads = 0;                  // 0: cores / ranks on the node
  DistOptions dist;
};

// Declares --model, --threads and --dist.* bound to `options`.
void describe_serving_options(po::options_description& d, ServingOptions& options);

struct ServedModel {
  std::shared_ptr<comm::Communicator> comm;
  train::ModelDescription description;
  model::Recommender recommender{nullptr};
};

// Needs an MpiEnvironment alive. Reads the model file (UserError naming it), builds the
// model with tables sharded as --dist.shard_threshold says and loads its weights. A
// checkpoint instead (a directory): its recorded configuration gives the model options and
// the data set, whose schema and vocabularies describe it; its checksums are verified and
// its best or last weights loaded, on any number of ranks.
ServedModel serve_model(const ServingOptions& options);

}  // namespace seqrec::cli
