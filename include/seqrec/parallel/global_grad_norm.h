// The L2 norm of the gradient of the whole model when its parameters are spread over
// ranks, and clipping by it: what torch::nn::utils::clip_grad_norm_ would do in one
// process holding everything.
//
// Replicated parameters have the same gradient on every rank (after GradientBuckets) and
// count once; sharded parameters hold different rows on each rank and count on all of
// them. Undefined gradients count as zeros. Squares are summed in float64, and the ranks'
// sums are added in rank order on every rank, so every rank gets the same bits and
// replicated parameters stay identical after clipping.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "seqrec/comm/communicator.h"

namespace seqrec::parallel {

// Collective.
double global_grad_norm(const std::vector<torch::Tensor>& replicated, const std::vector<torch::Tensor>& sharded,
                        comm::Communicator& comm);

// Collective. Scales every gradient by max_norm / (norm + 1e-6) when that is below 1, as
// clip_grad_norm_ does, and returns the norm before clipping. A NaN norm leaves the
// gradients alone (clip_grad_norm_ would make them NaN): the caller decides what to do
// with a non-finite step.
double clip_grad_norm(const std::vector<torch::Tensor>& replicated, const std::vector<torch::Tensor>& sharded,
                      double max_norm, comm::Communicator& comm);

}  // namespace seqrec::parallel
