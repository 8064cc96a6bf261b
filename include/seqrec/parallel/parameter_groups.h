// A model's parameters as data parallelism sees them: replicated ones, identical on every
// rank and kept so by summing their gradients; and row-sharded tables, each rank holding
// and updating its own rows.
#pragma once

#include <memory>
#include <vector>

#include <torch/torch.h>

#include "seqrec/parallel/sharded_embedding_table.h"

namespace seqrec::parallel {

struct ParameterGroups {
  std::vector<torch::Tensor> replicated;                          // registration order
  std::vector<std::shared_ptr<ShardedEmbeddingTableImpl>> sharded;  // their "shard" parameters excluded above
};

ParameterGroups parameter_groups(torch::nn::Module& model);

}  // namespace seqrec::parallel
