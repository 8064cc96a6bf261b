// The lookup of a row-sharded table, as one autograd function: rows come from their
// owners by all-to-all, and their gradients go back to the owners the same way.
#pragma once

#include <torch/torch.h>

#include "shard_link.h"

namespace seqrec::parallel::detail {

// ids of any shape -> [ids..., dim]. Collective, and so is its backward; the output
// always depends on `shard`, so with grad mode on every rank's output joins its graph.
torch::Tensor sharded_lookup(const torch::Tensor& shard, const torch::Tensor& ids,
                             const c10::intrusive_ptr<ShardLink>& link);

}  // namespace seqrec::parallel::detail
