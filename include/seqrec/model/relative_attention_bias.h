// HSTU's relative attention bias rab^{p,t} (Zhai et al., "Actions Speak Louder than
// Words", 2024): a learned bias per head on every (query, key) pair, from how many events
// apart the two are and, when events carry times, how long apart.
//
// Distances go into buckets exact for near events and logarithmic for far ones (T5's
// scheme); time gaps into logarithmic buckets of seconds, each 1.35 times as wide as the
// one before (the HSTU reference's ln(gap) / 0.301). Buckets depend on the batch alone,
// so a body computes them once and each layer looks up its own bias. A bidirectional
// body (XLNet) gives keys after the query buckets of their own, as T5 does.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace seqrec::model {

struct RelativeBiasOptions {
  int64_t heads = 1;
  int64_t max_seq_len = 50;       // the longest distance is max_seq_len - 1
  int64_t position_buckets = 32;  // fewer than max_seq_len: half exact, half logarithmic
  int64_t time_buckets = 0;       // 0: no time bias (events without times)
  bool bidirectional = false;     // keys after the query: false, the bucket of distance 0; true, their own
};

struct RelativeBuckets {
  torch::Tensor positions;  // [L, L] int64: bucket of the distance query - key (and its sign, bidirectional)
  torch::Tensor times;      // [B, L, L] int64: bucket of |t_query - t_key|; undefined without times
};

// length L; times [B, L] float64 seconds, or undefined (no time buckets then). Position
// buckets come on the CPU, time buckets on the times' device. Unless bidirectional, keys
// after the query (masked by a causal body) share the bucket of distance 0.
RelativeBuckets relative_buckets(int64_t length, const torch::Tensor& times, const RelativeBiasOptions& options);

class RelativeAttentionBiasImpl : public torch::nn::Module {
 public:
  explicit RelativeAttentionBiasImpl(const RelativeBiasOptions& options);
  // -> [B, H, L, L] with times, [1, H, L, L] without.
  torch::Tensor forward(const RelativeBuckets& buckets);

 private:
  torch::nn::Embedding positions_{nullptr}, times_{nullptr};
};
TORCH_MODULE(RelativeAttentionBias);

}  // namespace seqrec::model
