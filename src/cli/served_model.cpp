#include "served_model.h"

#include <chrono>

#include "seqrec/comm/make_communicator.h"
#include "seqrec/core/error.h"
#include "seqrec/core/threads.h"
#include "seqrec/parallel/sharded_embedding_table.h"

namespace seqrec::cli {

void describe_serving_options(po::options_description& d, ServingOptions& o) {
  const ServingOptions defaults;
  d.add_options()
      ("model", po::value(&o.model)->default_value(defaults.model), "model file (model.h5 of seqrec train)")
      ("threads", po::value(&o.threads)->default_value(defaults.threads), "compute threads (0: cores / ranks on the node)")
      ("dist.backend", po::value(&o.backend)->default_value(defaults.backend), "collectives: auto (nccl on GPUs, else mpi) | mpi | nccl")
      ("dist.shard_threshold", po::value(&o.shard_threshold)->default_value(defaults.shard_threshold), "embedding tables with more rows are row-sharded over the ranks; the item table always is (-1: shard nothing)")
      ("dist.timeout", po::value(&o.timeout_s)->default_value(defaults.timeout_s), "seconds a collective may wait before the job is aborted (0: forever)");
}

ServedModel serve_model(const ServingOptions& options) {
  if (options.model.empty()) fail("--model: give the model file (model.h5 of seqrec train)");
  if (options.timeout_s < 0) fail("dist.timeout must be 0 (no limit) or more seconds (got ", options.timeout_s, ")");
  ServedModel served;
  served.comm = comm::make_communicator(options.backend, std::chrono::seconds(options.timeout_s));
  configure_threads(threads_per_rank(options.threads));
  served.description = train::read_model_file(options.model);
  served.recommender =
      train::load_model(options.model, served.description,
                        parallel::sharded_table_factory(served.comm, options.shard_threshold), *served.comm);
  return served;
}

}  // namespace seqrec::cli
