#include "seqrec/data/split.h"

#include <algorithm>

#include "seqrec/core/error.h"

namespace seqrec {

namespace {

SplitPlan leave_last_out(const Sessions& sessions) {
  SplitPlan plan;
  for (int64_t s = 0; s < sessions.size(); ++s) {
    const int64_t n = sessions.length(s);
    if (n < 3) {
      plan.train.push_back({s, n, false});
      continue;
    }
    plan.train.push_back({s, n - 2, false});
    plan.valid.push_back({s, n - 2, true});
    plan.test.push_back({s, n - 1, true});
  }
  return plan;
}

SplitPlan by_time(const Sessions& sessions, const RawEvents& events, const SplitOptions& options) {
  if (!events.has_time()) fail("--split time needs event times (--time-col)");
  if (options.test_period_seconds <= 0) fail("--split time needs a positive --test-period");
  if (options.valid_period_seconds < 0) fail("--valid-period must not be negative");
  double latest = events.time[sessions.last_event(0)];
  for (int64_t s = 1; s < sessions.size(); ++s) latest = std::max(latest, events.time[sessions.last_event(s)]);
  const double test_start = latest - options.test_period_seconds;
  const double valid_start = test_start - options.valid_period_seconds;

  SplitPlan plan;
  for (int64_t s = 0; s < sessions.size(); ++s) {
    const double last = events.time[sessions.last_event(s)];
    const int64_t n = sessions.length(s);
    if (last <= valid_start) {
      plan.train.push_back({s, n, false});
    } else if (n < 2) {
      ++plan.dropped_sessions;
    } else {
      (last > test_start ? plan.test : plan.valid).push_back({s, n - 1, true});
    }
  }
  return plan;
}

}  // namespace

SplitRule parse_split_rule(const std::string& name) {
  if (name == "leave-last-out") return SplitRule::LeaveLastOut;
  if (name == "time") return SplitRule::Time;
  if (name == "none") return SplitRule::None;
  fail("--split: unknown rule '", name, "' (expected leave-last-out, time or none)");
}

const char* to_string(SplitRule rule) {
  switch (rule) {
    case SplitRule::LeaveLastOut: return "leave-last-out";
    case SplitRule::Time: return "time";
    case SplitRule::None: return "none";
  }
  return "?";
}

SplitPlan split_sessions(const Sessions& sessions, const RawEvents& events, const SplitOptions& options) {
  if (sessions.size() == 0) fail("no sessions left to split (check the filters)");
  switch (options.rule) {
    case SplitRule::LeaveLastOut: return leave_last_out(sessions);
    case SplitRule::Time: return by_time(sessions, events, options);
    case SplitRule::None: break;
  }
  SplitPlan plan;
  for (int64_t s = 0; s < sessions.size(); ++s) plan.train.push_back({s, sessions.length(s), false});
  return plan;
}

}  // namespace seqrec
