// Events grouped into sessions, each in time order.
//
// Sessions come from the session column when the log has one, else from the user
// column: one session per user, or several when an inactivity gap splits a user's
// history. Within a session events are stably sorted by time (ties keep file order);
// without times, file order is time order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seqrec/data/raw_events.h"

namespace seqrec {

struct Sessions {
  std::vector<std::string> key;     // raw session key; "<user>#<n>" for gap-split sessions
  std::vector<std::string> user;    // user of the session's first event; "" without users
  std::vector<int64_t> offsets{0};  // session s holds events[offsets[s], offsets[s + 1])
  std::vector<int64_t> events;      // indices into RawEvents, in time order per session

  int64_t size() const { return static_cast<int64_t>(key.size()); }
  int64_t length(int64_t s) const { return offsets[s + 1] - offsets[s]; }
  int64_t num_events() const { return static_cast<int64_t>(events.size()); }
  int64_t event(int64_t s, int64_t position) const { return events[offsets[s] + position]; }
  int64_t last_event(int64_t s) const { return events[offsets[s + 1] - 1]; }
};

// Sessions in order of their key's first appearance in the log; the pieces of a
// gap-split user follow each other in time order. gap_seconds > 0 splits a user's
// history where two consecutive events lie more than gap_seconds apart (needs times
// and no session column).
Sessions sessionize(const RawEvents& events, double gap_seconds);

}  // namespace seqrec
