// Assigning sessions to train, valid and test.
//
//   leave-last-out  sessions of 3+ events: train gets all but the last two; valid the
//                   same events as input and the second-to-last as target; test all but
//                   the last as input and the last as target. Shorter sessions go whole
//                   to train. (The SASRec protocol.)
//   time            with T the latest event time: sessions whose last event lies after
//                   T - test_period go to test, those after T - test_period -
//                   valid_period to valid (target: last event, input: the rest); the
//                   rest go whole to train. Test or valid sessions of one event have no
//                   input and are dropped.
//   none            every session whole to train.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seqrec/data/raw_events.h"
#include "seqrec/data/sessions.h"

namespace seqrec {

enum class SplitRule { LeaveLastOut, Time, None };

SplitRule parse_split_rule(const std::string& name);  // leave-last-out|time|none
const char* to_string(SplitRule rule);

struct SplitOptions {
  SplitRule rule = SplitRule::LeaveLastOut;
  double test_period_seconds = 0;   // time rule only
  double valid_period_seconds = 0;  // time rule only; 0: no valid split
};

// A session's part in a split: its first `length` events as input and, with a target,
// the event right after them as the held-out target.
struct SessionSlice {
  int64_t session = 0;
  int64_t length = 0;
  bool with_target = false;
};

struct SplitPlan {
  std::vector<SessionSlice> train, valid, test;  // each in session order
  int64_t dropped_sessions = 0;                  // time rule: one-event valid/test sessions
};

SplitPlan split_sessions(const Sessions& sessions, const RawEvents& events, const SplitOptions& options);

}  // namespace seqrec
