// The XLNet body (Yang et al., "XLNet: Generalized Autoregressive Pretraining for Language
// Understanding", 2019) for permutation language modelling (masking plm): two streams
// through the same transformer blocks.
//   content stream h: starts from the events' embeddings; a slot sees the real slots no
//     later than itself in the factorisation order, itself included.
//   query stream g: starts from the [MASK] vector plus the slot's position (the input
//     block's query_start); a slot sees the content of the real slots strictly before it
//     in the order, never its own: at a target it predicts an item it has not seen.
// Both streams read keys and values from the content stream, so one attention pass serves
// them: the query rows are stacked after the content rows. The blocks are
// transformer_body.h's (pre- or post-LN, GELU or ReLU, the transformer options); the body
// returns the query stream, final-normed under pre-LN.
//
// Relative positions: in place of XLNet's sinusoidal relative encodings and their u, v
// biases, relative_attention_bias.h's learned bias per head on the bucketed slot distance
// (T5's scheme), bidirectional, one table shared by every layer (as T5 shares it). Slot
// distances between events do not depend on the padding side. The input block adds its
// absolute positions as it does for every body.
//
// Inference (PermutationMasking::inference): as under mlm, a slot is appended after the
// last event (a full session drops its oldest) and is the only target; its query stream
// sees every real event and its output scores the next item.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "seqrec/model/relative_attention_bias.h"
#include "seqrec/model/sequence_body.h"
#include "seqrec/model/transformer_body.h"

namespace seqrec::model {

struct XlnetOptions {
  // The shared blocks (XLNet's are post-LN); `causal` is not read: the factorisation order
  // decides what each stream sees.
  TransformerOptions blocks{64, 2, 2, 256, 0.1, /*norm_first=*/false, Activation::Gelu, /*causal=*/false};
  int64_t max_seq_len = 50;
  int64_t position_buckets = 32;
};

// Which keys each stream's slots may attend to, [B, 1, L, L] each, from mask [B, L] (real
// events and appended slots) and order [B, L] (MaskedBatch::order): slot i sees real slot
// j when order j <= order i (content) or order j < order i (query). Padding slots see
// nothing and are seen by none.
struct TwoStreamMasks {
  torch::Tensor content, query;
};
TwoStreamMasks two_stream_masks(const torch::Tensor& mask, const torch::Tensor& order);

class XlnetBodyImpl : public SequenceBodyImpl {
 public:
  explicit XlnetBodyImpl(const XlnetOptions& options);
  // The content stream alone with every slot at order 0: each real event sees all others.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) override;
  torch::Tensor forward_in_order(const torch::Tensor& x, const torch::Tensor& queries, const torch::Tensor& mask,
                                 const torch::Tensor& order) override;

 private:
  // Rows of `streams` [B, R, d] through every block, keys and values from its first
  // `keys` rows; allowed [B, 1, R, keys]; keep [B, R]. Returns the rows from `first` on
  // [B, R - first, d], zero where not kept: the last block computes only those (nothing
  // reads the content stream after it, a quarter of two layers' work on two streams).
  torch::Tensor run(torch::Tensor streams, int64_t keys, const torch::Tensor& allowed, const torch::Tensor& keep,
                    int64_t first);

  RelativeBiasOptions bias_options_;
  RelativeAttentionBias bias_{nullptr};
  torch::nn::ModuleList blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};  // pre-LN only, as the transformer body's
};
TORCH_MODULE(XlnetBody);

}  // namespace seqrec::model
