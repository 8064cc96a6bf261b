// Replicated parameters start identical on every rank: one rank's values, sent to all.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "seqrec/comm/communicator.h"

namespace seqrec::parallel {

// Collective: every rank passes the same list (same shapes and dtypes, in the same order)
// and ends with root's values. Any tensors will do: parameters, buffers.
void broadcast_parameters(const std::vector<torch::Tensor>& parameters, comm::Communicator& comm, int root = 0);

}  // namespace seqrec::parallel
