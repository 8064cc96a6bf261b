// Removes rare items and short sessions, repeatedly until both hold (k-core style):
// dropping a rare item's events can shorten a session below the minimum, and dropping
// a short session can make an item rare.
#pragma once

#include <cstdint>

#include "seqrec/data/raw_events.h"
#include "seqrec/data/sessions.h"

namespace seqrec {

struct FilterOptions {
  int64_t min_item_count = 1;      // items with fewer events (over all sessions) are removed
  int64_t min_session_length = 1;  // sessions with fewer events are removed
};

struct FilterReport {
  int64_t dropped_events = 0;    // all events removed, those of dropped sessions included
  int64_t dropped_sessions = 0;
  int64_t dropped_items = 0;     // distinct items no longer present
  int rounds = 0;                // passes until nothing changed
};

// Remaining events keep their order; sessions keep their order and keys.
Sessions filter_sessions(const Sessions& sessions, const RawEvents& events, const FilterOptions& options,
                         FilterReport& report);

}  // namespace seqrec
