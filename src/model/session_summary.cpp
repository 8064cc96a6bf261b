#include "seqrec/model/session_summary.h"

#include "seqrec/core/error.h"
#include "seqrec/model/masking.h"

namespace seqrec::model {

SessionSummary parse_session_summary(const std::string& name) {
  if (name == "last") return SessionSummary::Last;
  if (name == "first") return SessionSummary::First;
  if (name == "mean") return SessionSummary::Mean;
  fail("model.summary: unknown value '", name, "' (valid: last, first, mean)");
}

torch::Tensor summarise_session(const torch::Tensor& output, const torch::Tensor& real, SessionSummary how) {
  const torch::Tensor weights = real.to(output.scalar_type()).unsqueeze(-1);
  if (how == SessionSummary::Mean) return (output * weights).sum(1) / weights.sum(1).clamp_min(1);
  const int64_t length = real.size(1);
  // Reversed slot numbers make argmax find the first real slot instead of the last.
  const torch::Tensor slot = how == SessionSummary::Last
                                 ? last_event_slot(real)
                                 : (real.to(torch::kInt64) * torch::arange(length, 0, -1, real.options().dtype(torch::kInt64)))
                                       .argmax(1);
  const torch::Tensor rows = torch::arange(output.size(0), slot.options());
  const torch::Tensor any = real.any(1).to(output.scalar_type()).unsqueeze(-1);
  return output.index({rows, slot}) * any;
}

}  // namespace seqrec::model
