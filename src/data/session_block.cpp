#include "seqrec/data/session_block.h"

#include "seqrec/core/error.h"

namespace seqrec {

Column Column::empty_like(const FeatureSpec& feature) {
  Column c;
  c.width = feature.max_values;
  switch (feature.dtype) {
    case DType::Int64: c.values = std::vector<int64_t>{}; break;
    case DType::Float32: c.values = std::vector<float>{}; break;
    case DType::Float64: c.values = std::vector<double>{}; break;
  }
  return c;
}

DType Column::dtype() const {
  return static_cast<DType>(values.index());  // variant order matches DType
}

int64_t Column::rows() const {
  return std::visit([&](const auto& v) { return static_cast<int64_t>(v.size()) / width; }, values);
}

void Column::reserve_rows(int64_t rows) {
  std::visit([&](auto& v) { v.reserve(static_cast<size_t>(rows * width)); }, values);
}

void Column::append_rows(const Column& other, int64_t begin, int64_t end) {
  if (other.values.index() != values.index() || other.width != width) {
    throw std::logic_error("Column::append_rows: columns differ in type or width");
  }
  std::visit(
      [&](auto& v) {
        using Vec = std::decay_t<decltype(v)>;
        const Vec& src = std::get<Vec>(other.values);
        v.insert(v.end(), src.begin() + begin * width, src.begin() + end * width);
      },
      values);
}

SessionBlock SessionBlock::empty(const Schema& schema, bool with_targets) {
  SessionBlock block;
  for (const auto& f : schema.sequence_features()) {
    block.sequence.push_back(Column::empty_like(f));
    if (with_targets) block.targets.push_back(Column::empty_like(f));
  }
  for (const auto& f : schema.context_features()) block.context.push_back(Column::empty_like(f));
  return block;
}

void SessionBlock::append_session(const SessionBlock& other, int64_t row) {
  const int64_t begin = other.offsets[row];
  const int64_t end = other.offsets[row + 1];
  for (size_t i = 0; i < sequence.size(); ++i) sequence[i].append_rows(other.sequence[i], begin, end);
  for (size_t i = 0; i < context.size(); ++i) context[i].append_rows(other.context[i], row, row + 1);
  for (size_t i = 0; i < targets.size(); ++i) targets[i].append_rows(other.targets[i], row, row + 1);
  session_ids.push_back(other.session_ids[row]);
  offsets.push_back(offsets.back() + (end - begin));
}

}  // namespace seqrec
