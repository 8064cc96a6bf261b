// A batch of sessions as tensors: what the model consumes.
#pragma once

#include <map>
#include <string>

#include <torch/torch.h>

#include "seqrec/data/session_block.h"

namespace seqrec {

enum class PaddingSide { Right, Left };

struct CollateOptions {
  int64_t max_seq_len = 50;              // longer sessions keep their most recent events
  PaddingSide padding = PaddingSide::Right;
};

struct Batch {
  torch::Tensor session_ids;  // [B] int64, rows of sessions.tsv
  torch::Tensor lengths;      // [B] int64, events kept (<= max_seq_len)
  torch::Tensor mask;         // [B, L] bool, true at real events
  // Sequence features [B, L] (multi-valued [B, L, K]); context features [B] ([B, K]).
  // int64 for categorical, float32 for continuous, float64 for time.
  std::map<std::string, torch::Tensor> features;
  // Held-out next event of valid/test splits, per sequence feature: [B] ([B, K]).
  std::map<std::string, torch::Tensor> targets;

  int64_t size() const { return lengths.defined() ? lengths.size(0) : 0; }
};

Batch collate(const SessionBlock& sessions, const Schema& schema, const CollateOptions& options);

}  // namespace seqrec
