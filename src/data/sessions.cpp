#include "seqrec/data/sessions.h"

#include <algorithm>
#include <unordered_map>

#include "seqrec/core/error.h"

namespace seqrec {

Sessions sessionize(const RawEvents& events, double gap_seconds) {
  const std::vector<std::string>& keys = events.has_sessions() ? events.session : events.user;
  if (keys.empty()) fail("the log has neither a session nor a user column (--session-col, --user-col)");
  if (gap_seconds > 0 && events.has_sessions()) {
    fail("--session-gap splits users' histories; it cannot be combined with --session-col");
  }
  if (gap_seconds > 0 && !events.has_time()) fail("--session-gap needs event times (--time-col)");

  // Group event indices by key, groups in order of first appearance, file order within.
  std::unordered_map<std::string, int64_t> group_of;
  std::vector<std::vector<int64_t>> groups;
  for (int64_t e = 0; e < events.size(); ++e) {
    auto [it, inserted] = group_of.emplace(keys[e], static_cast<int64_t>(groups.size()));
    if (inserted) groups.emplace_back();
    groups[it->second].push_back(e);
  }

  Sessions sessions;
  sessions.events.reserve(events.size());
  for (auto& group : groups) {
    if (events.has_time()) {
      std::stable_sort(group.begin(), group.end(),
                       [&](int64_t a, int64_t b) { return events.time[a] < events.time[b]; });
    }
    const std::string& group_key = keys[group.front()];
    int64_t piece = 0;
    for (size_t i = 0; i < group.size(); ++i) {
      const bool starts_session =
          i == 0 || (gap_seconds > 0 && events.time[group[i]] - events.time[group[i - 1]] > gap_seconds);
      if (starts_session) {
        if (i > 0) sessions.offsets.push_back(sessions.num_events());
        sessions.key.push_back(gap_seconds > 0 ? group_key + "#" + std::to_string(piece++) : group_key);
        sessions.user.push_back(events.has_users() ? events.user[group[i]] : "");
      }
      sessions.events.push_back(group[i]);
    }
    sessions.offsets.push_back(sessions.num_events());
  }
  return sessions;
}

}  // namespace seqrec
