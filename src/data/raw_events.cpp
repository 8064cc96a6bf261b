#include "seqrec/data/raw_events.h"

namespace seqrec {

int64_t RawColumn::rows() const {
  switch (kind) {
    case RawKind::Categorical: return static_cast<int64_t>(tokens.size());
    case RawKind::Continuous: return static_cast<int64_t>(numbers.size());
    case RawKind::MultiValued: return static_cast<int64_t>(lists.size());
  }
  return 0;
}

void RawColumn::reserve(int64_t rows) {
  switch (kind) {
    case RawKind::Categorical: tokens.reserve(rows); break;
    case RawKind::Continuous: numbers.reserve(rows); break;
    case RawKind::MultiValued: lists.reserve(rows); break;
  }
}

int64_t SideTable::row_of(const std::string& key) const {
  auto it = rows.find(key);
  return it == rows.end() ? -1 : it->second;
}

}  // namespace seqrec
