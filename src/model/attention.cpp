#include "seqrec/model/attention.h"

#include <cmath>
#include <limits>

#include <torch/version.h>

#include "seqrec/model/dropout.h"

namespace seqrec::model {

torch::Tensor attention_mask(const torch::Tensor& mask, bool causal) {
  const int64_t length = mask.size(1);
  const torch::Tensor itself = torch::eye(length, mask.options());
  torch::Tensor allowed = mask.unsqueeze(1).unsqueeze(1) | itself;  // [B, 1, L(query), L(key)]
  if (causal) allowed = allowed & torch::ones({length, length}, mask.options()).tril();
  return allowed;
}

MultiHeadAttentionImpl::MultiHeadAttentionImpl(int64_t d_model, int64_t heads, double dropout)
    : heads_(heads), dropout_(dropout) {
  query_ = register_module("query", torch::nn::Linear(d_model, d_model));
  // No bias on keys: it adds q . b to every score of a query alike, which the softmax
  // cancels. Its gradient would be rounding noise that Adam scales up to full-size steps.
  key_ = register_module("key", torch::nn::Linear(torch::nn::LinearOptions(d_model, d_model).bias(false)));
  value_ = register_module("value", torch::nn::Linear(d_model, d_model));
  output_ = register_module("output", torch::nn::Linear(d_model, d_model));
}

torch::Tensor MultiHeadAttentionImpl::split_heads(const torch::Tensor& x) const {
  // Sizes spelled out, not -1: an empty batch (a rank's share may be) has none to infer.
  return x.view({x.size(0), x.size(1), heads_, x.size(2) / heads_}).transpose(1, 2);
}

// softmax(Q K^T / sqrt(d_head) + bias) V with dropout on the attention weights.
torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& query_input, const torch::Tensor& key_value_input,
                                              const torch::Tensor& allowed, const torch::Tensor& bias) {
  const torch::Tensor q = split_heads(query_(query_input));
  const torch::Tensor k = split_heads(key_(key_value_input));
  const torch::Tensor v = split_heads(value_(key_value_input));
  const int64_t batch = q.size(0), queries = q.size(2), keys = k.size(2);
  // Blocked keys get the lowest float added to their scores, not -inf: a row of -inf
  // alone would give NaN, and its gradient NaN everywhere. exp(lowest - max) is 0 as
  // exp(-inf) is, and the weights of blocked keys are zeroed after the softmax, so a row
  // with none allowed is all zeros. Under bf16 autocast, bfloat16's lowest: float's
  // lies outside bfloat16's range.
  const torch::Tensor blocked = allowed.logical_not();
  const double lowest = q.scalar_type() == torch::kBFloat16
                            ? static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest())
                            : std::numeric_limits<float>::lowest();
  torch::Tensor offsets = torch::zeros(blocked.sizes(), q.options()).masked_fill_(blocked, lowest);
  if (bias.defined()) offsets = offsets + bias;
#if TORCH_VERSION_MAJOR >= 2
  // On a GPU, LibTorch's fused attention (the memory-efficient kernel: it takes an
  // additive mask) never writes the [L, L] weights to memory. A row with every key
  // blocked comes out as the mean of the values there, and is zeroed here as above. The
  // CPU keeps the path below: its dropout is keyed and repeats bit for bit.
  if (q.is_cuda()) {
    const torch::Tensor heads =
        at::scaled_dot_product_attention(q, k, v, offsets.to(q.scalar_type()), is_training() ? dropout_ : 0.0,
                                         /*is_causal=*/false) *
        allowed.any(-1, /*keepdim=*/true).to(q.scalar_type());
    const torch::Tensor merged = heads.transpose(1, 2).contiguous();
    return output_(merged.view({merged.size(0), merged.size(1), merged.size(2) * merged.size(3)}));
  }
#endif
  // Mask, bias and scale go into one baddbmm: no separate division and masked_fill in
  // forward and backward.
  const int64_t rows = batch * heads_;
  const torch::Tensor scores =
      torch::baddbmm(offsets.expand({batch, heads_, queries, keys}).reshape({rows, queries, keys}),
                     q.reshape({rows, queries, q.size(3)}), k.reshape({rows, keys, k.size(3)}).transpose(1, 2),
                     /*beta=*/1, /*alpha=*/1 / std::sqrt(static_cast<double>(q.size(3))));
  const torch::Tensor weights = model::dropout(
      torch::softmax(scores.view({batch, heads_, queries, keys}), -1).masked_fill(blocked, 0.0), dropout_, is_training());
  const torch::Tensor heads = torch::matmul(weights, v).transpose(1, 2).contiguous();
  return output_(heads.view({heads.size(0), heads.size(1), heads.size(2) * heads.size(3)}));
}

}  // namespace seqrec::model
