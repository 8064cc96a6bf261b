// The dist.* options of every command that runs a model over ranks (train, bench,
// evaluate, recommend, export), and the communicator they describe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "seqrec/comm/communicator.h"
#include "seqrec/core/options.h"

namespace seqrec::cli {

struct DistOptions {
  std::string backend = "auto";
  int64_t shard_threshold = 100000;
  int64_t timeout_s = 600;
};

// Declares --dist.backend, --dist.shard_threshold and --dist.timeout bound to `options`.
void describe_dist_options(po::options_description& d, DistOptions& options);

// The job's communicator; needs an MpiEnvironment alive. UserError for a negative timeout.
std::shared_ptr<comm::Communicator> connect_ranks(const DistOptions& options);

}  // namespace seqrec::cli
