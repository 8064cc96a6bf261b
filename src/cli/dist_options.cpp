#include "dist_options.h"

#include <chrono>

#include "seqrec/comm/make_communicator.h"
#include "seqrec/core/error.h"

namespace seqrec::cli {

void describe_dist_options(po::options_description& d, DistOptions& o) {
  const DistOptions defaults;
  d.add_options()
      ("dist.backend", po::value(&o.backend)->default_value(defaults.backend), "collectives: auto (nccl with a GPU per rank, mpi-gpu where ranks outnumber a node's GPUs, else mpi) | mpi (CPU) | nccl (one GPU per rank) | mpi-gpu (models on GPUs, MPI collectives through host memory: ranks may share a GPU)")
      ("dist.shard_threshold", po::value(&o.shard_threshold)->default_value(defaults.shard_threshold), "embedding tables with more rows are row-sharded over the ranks; the item table always is (-1: shard nothing, replicate every table)")
      ("dist.timeout", po::value(&o.timeout_s)->default_value(defaults.timeout_s), "seconds a collective may wait before the job is aborted (0: forever)");
}

std::shared_ptr<comm::Communicator> connect_ranks(const DistOptions& o) {
  if (o.timeout_s < 0) fail("dist.timeout must be 0 (no limit) or more seconds (got ", o.timeout_s, ")");
  return comm::make_communicator(o.backend, std::chrono::seconds(o.timeout_s));
}

}  // namespace seqrec::cli
