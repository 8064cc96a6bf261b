// One vector per session from the body's outputs at its events, for session-level heads.
//
// last: the output at the last real event (under a causal body the only one that has
// seen the whole session); first: at the first real event (under a causal body it has
// seen that event alone); mean: the average over the real events. Padding slots never
// count; a session without events summarises to zeros.
#pragma once

#include <string>

#include <torch/torch.h>

namespace seqrec::model {

enum class SessionSummary { Last, First, Mean };

// UserError naming model.summary and its choices for anything else.
SessionSummary parse_session_summary(const std::string& name);

// output [B, L, d], real [B, L] bool -> [B, d]
torch::Tensor summarise_session(const torch::Tensor& output, const torch::Tensor& real, SessionSummary how);

}  // namespace seqrec::model
