// The AdamW state torch keeps per parameter, found and set by the parameter. LibTorch
// keys its state map by the parameter's TensorImpl (as text in 1.x, as a pointer in 2.x);
// these two functions hide which.
#pragma once

#include <torch/torch.h>

namespace seqrec::train {

// nullptr when the parameter has no state yet (never stepped).
const torch::optim::AdamWParamState* find_adamw_state(torch::optim::AdamW& optimizer, const torch::Tensor& parameter);
void set_adamw_state(torch::optim::AdamW& optimizer, const torch::Tensor& parameter,
                     std::unique_ptr<torch::optim::AdamWParamState> state);

}  // namespace seqrec::train
