#include "seqrec/data/session_filter.h"

#include <algorithm>
#include <unordered_map>

#include "seqrec/core/error.h"

namespace seqrec {

namespace {

// Dense item indices per event, so counting is a vector increment.
std::vector<int64_t> item_indices(const RawEvents& events, int64_t& num_items) {
  std::unordered_map<std::string, int64_t> index_of;
  std::vector<int64_t> indices(events.size());
  for (int64_t e = 0; e < events.size(); ++e) {
    indices[e] = index_of.emplace(events.item[e], static_cast<int64_t>(index_of.size())).first->second;
  }
  num_items = static_cast<int64_t>(index_of.size());
  return indices;
}

int64_t count_present(const std::vector<int64_t>& counts) {
  return std::count_if(counts.begin(), counts.end(), [](int64_t c) { return c > 0; });
}

}  // namespace

Sessions filter_sessions(const Sessions& sessions, const RawEvents& events, const FilterOptions& options,
                         FilterReport& report) {
  if (options.min_item_count < 1) fail("--min-item-count must be at least 1");
  if (options.min_session_length < 1) fail("--min-session-length must be at least 1");
  int64_t num_items = 0;
  const std::vector<int64_t> item = item_indices(events, num_items);
  std::vector<int64_t> counts(num_items, 0);
  for (int64_t e : sessions.events) ++counts[item[e]];
  const int64_t items_before = count_present(counts);

  Sessions current = sessions;
  report = FilterReport{};
  while (true) {
    ++report.rounds;
    Sessions kept;
    for (int64_t s = 0; s < current.size(); ++s) {
      const int64_t begin = kept.num_events();
      for (int64_t i = current.offsets[s]; i < current.offsets[s + 1]; ++i) {
        if (counts[item[current.events[i]]] >= options.min_item_count) kept.events.push_back(current.events[i]);
      }
      if (kept.num_events() - begin < options.min_session_length) {
        kept.events.resize(begin);
        continue;
      }
      kept.key.push_back(current.key[s]);
      kept.user.push_back(current.user[s]);
      kept.offsets.push_back(kept.num_events());
    }
    const bool changed = kept.num_events() != current.num_events();
    current = std::move(kept);
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t e : current.events) ++counts[item[e]];
    if (!changed) break;
  }
  report.dropped_events = sessions.num_events() - current.num_events();
  report.dropped_sessions = sessions.size() - current.size();
  report.dropped_items = items_before - count_present(counts);
  return current;
}

}  // namespace seqrec
