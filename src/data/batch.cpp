#include "seqrec/data/batch.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "seqrec/core/error.h"

namespace seqrec {

namespace {

torch::Dtype torch_dtype(DType dtype) {
  switch (dtype) {
    case DType::Int64: return torch::kInt64;
    case DType::Float32: return torch::kFloat32;
    case DType::Float64: return torch::kFloat64;
  }
  throw std::logic_error("torch_dtype: unknown DType");
}

// Where each session's kept events go in its row of max_len slots.
struct RowLayout {
  std::vector<int64_t> kept;        // events kept: the most recent ones
  std::vector<int64_t> first_slot;  // slot of the first kept event
  int64_t max_len = 0;
};

RowLayout layout_rows(const SessionBlock& sessions, const CollateOptions& options) {
  RowLayout layout;
  layout.max_len = options.max_seq_len;
  for (int64_t b = 0; b < sessions.num_sessions(); ++b) {
    const int64_t kept = std::min(sessions.length(b), options.max_seq_len);
    layout.kept.push_back(kept);
    layout.first_slot.push_back(options.padding == PaddingSide::Right ? 0 : options.max_seq_len - kept);
  }
  return layout;
}

// [B, L] from a column of one value per event, or [B, L, K] for K values per event;
// padding slots hold 0 (kPaddingId for categorical features).
torch::Tensor collate_sequence(const Column& column, const SessionBlock& sessions, const RowLayout& layout) {
  const int64_t rows = sessions.num_sessions();
  const int64_t width = column.width;
  std::vector<int64_t> shape{rows, layout.max_len};
  if (width > 1) shape.push_back(width);
  torch::Tensor out = torch::zeros(shape, torch_dtype(column.dtype()));
  std::visit(
      [&](const auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        T* dst = out.data_ptr<T>();
        for (int64_t b = 0; b < rows; ++b) {
          const int64_t first_event = sessions.offsets[b + 1] - layout.kept[b];
          std::copy_n(values.data() + first_event * width, layout.kept[b] * width,
                      dst + (b * layout.max_len + layout.first_slot[b]) * width);
        }
      },
      column.values);
  return out;
}

// [B] from a column of one value per session, or [B, K].
torch::Tensor collate_per_session(const Column& column) {
  std::vector<int64_t> shape{column.rows()};
  if (column.width > 1) shape.push_back(column.width);
  torch::Tensor out = torch::empty(shape, torch_dtype(column.dtype()));
  std::visit(
      [&](const auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        std::copy(values.begin(), values.end(), out.data_ptr<T>());
      },
      column.values);
  return out;
}

torch::Tensor int64_tensor(const std::vector<int64_t>& values) {
  torch::Tensor out = torch::empty({static_cast<int64_t>(values.size())}, torch::kInt64);
  std::copy(values.begin(), values.end(), out.data_ptr<int64_t>());
  return out;
}

torch::Tensor event_mask(const RowLayout& layout) {
  const auto rows = static_cast<int64_t>(layout.kept.size());
  torch::Tensor mask = torch::zeros({rows, layout.max_len}, torch::kBool);
  bool* dst = mask.data_ptr<bool>();
  for (int64_t b = 0; b < rows; ++b) {
    std::fill_n(dst + b * layout.max_len + layout.first_slot[b], layout.kept[b], true);
  }
  return mask;
}

}  // namespace

Batch collate(const SessionBlock& sessions, const Schema& schema, const CollateOptions& options) {
  if (options.max_seq_len < 1) fail("max_seq_len must be at least 1 (got ", options.max_seq_len, ")");
  const std::vector<FeatureSpec> sequence = schema.sequence_features();
  const std::vector<FeatureSpec> context = schema.context_features();
  if (sessions.sequence.size() != sequence.size() || sessions.context.size() != context.size() ||
      (sessions.has_targets() && sessions.targets.size() != sequence.size())) {
    throw std::invalid_argument("collate: the block's columns do not match the schema");
  }

  const RowLayout layout = layout_rows(sessions, options);
  Batch batch;
  batch.session_ids = int64_tensor(sessions.session_ids);
  batch.lengths = int64_tensor(layout.kept);
  batch.mask = event_mask(layout);
  for (size_t i = 0; i < sequence.size(); ++i) {
    batch.features[sequence[i].name] = collate_sequence(sessions.sequence[i], sessions, layout);
    if (sessions.has_targets()) batch.targets[sequence[i].name] = collate_per_session(sessions.targets[i]);
  }
  for (size_t i = 0; i < context.size(); ++i) {
    batch.features[context[i].name] = collate_per_session(sessions.context[i]);
  }
  return batch;
}

}  // namespace seqrec
