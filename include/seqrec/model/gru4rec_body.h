// The GRU4Rec body (Hidasi et al., "Session-based Recommendations with Recurrent Neural
// Networks", 2016; Hidasi & Czapp, "The effect of third party implementations on
// reproducibility", 2023): stacked GRU layers over the per-event vectors, dropout between
// layers and on the hidden states. Causal by construction, so it trains under CLM only.
//
// GRU4Rec has no position embeddings, but the input block adds its learned ones to every
// body's input; the recurrence can use or ignore them.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "seqrec/model/dropout.h"
#include "seqrec/model/sequence_body.h"

namespace seqrec::model {

struct Gru4recOptions {
  int64_t d_model = 64;  // input width and hidden size: scores go against the tied item table
  int64_t layers = 1;    // the papers' default
  double dropout = 0.2;  // between layers and on the output hidden states
};

class Gru4recBodyImpl : public SequenceBodyImpl {
 public:
  explicit Gru4recBodyImpl(const Gru4recOptions& options);
  // The output at each real slot is the state after exactly the events up to and
  // including it, whether the batch is padded on the right or on the left.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) override;

 private:
  torch::nn::GRU gru_{nullptr};
  Dropout dropout_{nullptr};
};
TORCH_MODULE(Gru4recBody);

}  // namespace seqrec::model
