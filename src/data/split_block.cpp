#include "seqrec/data/split_block.h"

#include <stdexcept>

namespace seqrec {

SessionBlock build_split_block(const Schema& schema, const std::vector<EncodedFeature>& features,
                               const Sessions& sessions, const std::vector<SessionSlice>& slices) {
  const bool with_targets = !slices.empty() && slices.front().with_target;
  SessionBlock block = SessionBlock::empty(schema, with_targets);
  std::vector<const EncodedFeature*> sequence, context;
  for (const auto& feature : features) {
    (feature.spec.scope == FeatureScope::Sequence ? sequence : context).push_back(&feature);
  }
  if (sequence.size() != block.sequence.size() || context.size() != block.context.size()) {
    throw std::logic_error("build_split_block: features do not match the schema");
  }

  int64_t num_events = 0;
  for (const auto& slice : slices) num_events += slice.length;
  for (auto& column : block.sequence) column.reserve_rows(num_events);
  block.offsets.reserve(slices.size() + 1);
  block.session_ids.reserve(slices.size());

  for (const SessionSlice& slice : slices) {
    for (size_t f = 0; f < sequence.size(); ++f) {
      for (int64_t i = 0; i < slice.length; ++i) {
        const int64_t row = sequence[f]->row(sessions.event(slice.session, i));
        block.sequence[f].append_rows(sequence[f]->values, row, row + 1);
      }
      if (with_targets) {
        const int64_t row = sequence[f]->row(sessions.event(slice.session, slice.length));
        block.targets[f].append_rows(sequence[f]->values, row, row + 1);
      }
    }
    for (size_t f = 0; f < context.size(); ++f) {
      const int64_t row = context[f]->row(slice.session);
      block.context[f].append_rows(context[f]->values, row, row + 1);
    }
    block.offsets.push_back(block.offsets.back() + slice.length);
    block.session_ids.push_back(slice.session);
  }
  return block;
}

}  // namespace seqrec
