#include "seqrec/model/gru4rec_body.h"

#include <tuple>

#include <torch/nn/utils/rnn.h>

namespace seqrec::model {

namespace {

namespace rnn = torch::nn::utils::rnn;

// Original slot -> slot once each session's real events are moved, in order, to the
// front and its padding after them. Any padding side (or pattern) maps to right padding.
torch::Tensor front_slots(const torch::Tensor& mask, const torch::Tensor& lengths) {
  const torch::Tensor real = mask.to(torch::kLong);
  const torch::Tensor padding_rank = (1 - real).cumsum(1) - 1;
  return torch::where(mask, real.cumsum(1) - 1, lengths.unsqueeze(1) + padding_rank);
}

// Rows of x [B, L, d] reordered along L by slot indices [B, L].
torch::Tensor gather_slots(const torch::Tensor& x, const torch::Tensor& slots) {
  return x.gather(1, slots.unsqueeze(-1).expand({-1, -1, x.size(2)}));
}

}  // namespace

Gru4recBodyImpl::Gru4recBodyImpl(const Gru4recOptions& o) {
  // LibTorch warns about dropout between layers when there is only one layer.
  gru_ = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(o.d_model, o.d_model)
                                                   .num_layers(o.layers)
                                                   .batch_first(true)
                                                   .dropout(o.layers > 1 ? o.dropout : 0.0)));
  dropout_ = register_module("dropout", Dropout(o.dropout));
}

torch::Tensor Gru4recBodyImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const int64_t length = x.size(1);
  if (x.size(0) == 0) {
    // A rank's share of a step may be empty, and packing needs at least one sequence.
    // Zero times every weight keeps them in the graph, so that their gradients are
    // defined (and zero) as other bodies' are on an empty batch.
    torch::Tensor zero = x.sum();
    for (const torch::Tensor& p : gru_->parameters()) zero = zero + p.sum() * 0;
    return x * zero;  // [0, L, d]: the input is as wide as the hidden state
  }
  const torch::Tensor lengths = mask.sum(1);
  const torch::Tensor to_front = front_slots(mask, lengths);
  torch::Tensor from_front = torch::empty_like(to_front);
  from_front.scatter_(1, to_front, torch::arange(length, to_front.options()).expand_as(to_front));

  // Packing keeps padding out of the recurrence: with left padding the state would
  // otherwise run over empty slots (and their biases) before the first event. A session
  // without events gets length 1; its output is masked below. Lengths live on the CPU.
  const rnn::PackedSequence packed = rnn::pack_padded_sequence(
      gather_slots(x, from_front), lengths.clamp_min(1).to(torch::kCPU), /*batch_first=*/true,
      /*enforce_sorted=*/false);
  const torch::Tensor states =
      std::get<0>(rnn::pad_packed_sequence(std::get<0>(gru_->forward_with_packed_input(packed)),
                                           /*batch_first=*/true, /*padding_value=*/0.0, length));
  return dropout_(gather_slots(states, to_front)) * mask.unsqueeze(-1);
}

}  // namespace seqrec::model
