// Sessionizing, filtering and splitting, on small logs built in memory.
#include <gtest/gtest.h>

#include "seqrec/core/error.h"
#include "seqrec/data/session_filter.h"
#include "seqrec/data/sessions.h"
#include "seqrec/data/split.h"

namespace seqrec {
namespace {

using strings = std::vector<std::string>;

// The items of each session, in session order.
std::vector<strings> session_items(const Sessions& sessions, const RawEvents& events) {
  std::vector<strings> items(sessions.size());
  for (int64_t s = 0; s < sessions.size(); ++s) {
    for (int64_t i = 0; i < sessions.length(s); ++i) items[s].push_back(events.item[sessions.event(s, i)]);
  }
  return items;
}

RawEvents user_log(strings users, strings items, std::vector<double> times = {}) {
  RawEvents events;
  events.user = std::move(users);
  events.item = std::move(items);
  events.time = std::move(times);
  return events;
}

TEST(Sessionize, GroupsByFirstAppearanceAndSortsStablyByTime) {
  const RawEvents events = user_log({"b", "a", "b", "a", "b"}, {"b1", "a1", "b2", "a2", "b3"}, {5, 3, 1, 3, 5});
  const Sessions sessions = sessionize(events, 0);
  EXPECT_EQ(sessions.key, (strings{"b", "a"}));
  EXPECT_EQ(sessions.user, (strings{"b", "a"}));
  // b: times 5, 1, 5 -> b2 first, then b1 and b3 in file order (tie).
  EXPECT_EQ(session_items(sessions, events), (std::vector<strings>{{"b2", "b1", "b3"}, {"a1", "a2"}}));
}

TEST(Sessionize, WithoutTimesFileOrderIsTimeOrder) {
  const RawEvents events = user_log({"1", "2", "1"}, {"x", "y", "z"});
  EXPECT_EQ(session_items(sessionize(events, 0), events), (std::vector<strings>{{"x", "z"}, {"y"}}));
}

TEST(Sessionize, SessionColumnWinsOverUsers) {
  RawEvents events = user_log({"u", "u", "v"}, {"x", "y", "z"}, {1, 2, 3});
  events.session = {"s1", "s2", "s1"};
  const Sessions sessions = sessionize(events, 0);
  EXPECT_EQ(sessions.key, (strings{"s1", "s2"}));
  EXPECT_EQ(sessions.user, (strings{"u", "u"}));  // the user of the first event
  EXPECT_EQ(session_items(sessions, events), (std::vector<strings>{{"x", "z"}, {"y"}}));
  EXPECT_THROW(sessionize(events, 60), UserError);
}

TEST(Sessionize, GapSplitsUserHistories) {
  const RawEvents events = user_log({"u", "u", "u", "v", "u"}, {"a", "b", "c", "d", "e"}, {0, 100, 1000, 0, 1060});
  const Sessions sessions = sessionize(events, 60 * 10);
  EXPECT_EQ(sessions.key, (strings{"u#0", "u#1", "v#0"}));
  EXPECT_EQ(sessions.user, (strings{"u", "u", "v"}));
  EXPECT_EQ(session_items(sessions, events), (std::vector<strings>{{"a", "b"}, {"c", "e"}, {"d"}}));
  EXPECT_THROW(sessionize(user_log({"u"}, {"a"}), 60), UserError);  // no times
}

TEST(FilterSessions, RepeatsUntilStable) {
  // Min item count 2, min length 2. Round 1 drops item z, leaving session 3 too short;
  // without it y is rare, so round 2 drops y and session 2; then w is rare, so round 3
  // drops w from session 1; round 4 changes nothing.
  const RawEvents events = user_log({"1", "1", "1", "2", "2", "3", "3"}, {"x", "w", "x", "y", "w", "y", "z"});
  const Sessions sessions = sessionize(events, 0);
  FilterReport report;
  const Sessions kept = filter_sessions(sessions, events, {2, 2}, report);
  EXPECT_EQ(kept.key, (strings{"1"}));
  EXPECT_EQ(session_items(kept, events), (std::vector<strings>{{"x", "x"}}));
  EXPECT_EQ(report.dropped_events, 5);
  EXPECT_EQ(report.dropped_sessions, 2);
  EXPECT_EQ(report.dropped_items, 3);
  EXPECT_EQ(report.rounds, 4);
}

TEST(FilterSessions, KeepsEverythingByDefault) {
  const RawEvents events = user_log({"1", "2"}, {"x", "y"});
  FilterReport report;
  const Sessions kept = filter_sessions(sessionize(events, 0), events, {}, report);
  EXPECT_EQ(kept.size(), 2);
  EXPECT_EQ(report.dropped_events, 0);
  EXPECT_EQ(report.rounds, 1);
}

TEST(Split, LeaveLastOutFollowsSasrec) {
  const RawEvents events = user_log({"1", "1", "1", "1", "2", "2", "3", "3", "3"}, {"a", "b", "c", "d", "e", "f", "g", "h", "i"});
  const Sessions sessions = sessionize(events, 0);
  const SplitPlan plan = split_sessions(sessions, events, {});
  auto as_tuples = [](const std::vector<SessionSlice>& slices) {
    std::vector<std::tuple<int64_t, int64_t, bool>> tuples;
    for (const auto& s : slices) tuples.emplace_back(s.session, s.length, s.with_target);
    return tuples;
  };
  using T = std::vector<std::tuple<int64_t, int64_t, bool>>;
  EXPECT_EQ(as_tuples(plan.train), (T{{0, 2, false}, {1, 2, false}, {2, 1, false}}));
  EXPECT_EQ(as_tuples(plan.valid), (T{{0, 2, true}, {2, 1, true}}));
  EXPECT_EQ(as_tuples(plan.test), (T{{0, 3, true}, {2, 2, true}}));
}

TEST(Split, TimeUsesTheLastEventOfEachSession) {
  // Latest time 100; test period 10 -> last event in (90, 100]; valid period 20 -> (70, 90].
  const RawEvents events = user_log({"1", "1", "2", "2", "3", "3", "4", "5", "5"},
                                    {"a", "b", "c", "d", "e", "f", "g", "h", "i"},
                                    {10, 95, 50, 90, 60, 70, 99, 1, 100});
  const Sessions sessions = sessionize(events, 0);
  SplitOptions options;
  options.rule = SplitRule::Time;
  options.test_period_seconds = 10;
  options.valid_period_seconds = 20;
  const SplitPlan plan = split_sessions(sessions, events, options);
  ASSERT_EQ(plan.test.size(), 2u);
  EXPECT_EQ(plan.test[0].session, 0);
  EXPECT_EQ(plan.test[0].length, 1);
  EXPECT_TRUE(plan.test[0].with_target);
  EXPECT_EQ(plan.test[1].session, 4);
  ASSERT_EQ(plan.valid.size(), 1u);
  EXPECT_EQ(plan.valid[0].session, 1);  // last event at 90: not after 90
  ASSERT_EQ(plan.train.size(), 1u);
  EXPECT_EQ(plan.train[0].session, 2);  // last event at 70: not after 70
  EXPECT_EQ(plan.train[0].length, 2);
  EXPECT_EQ(plan.dropped_sessions, 1);  // user 4: one event in the test period

  options.test_period_seconds = 0;
  EXPECT_THROW(split_sessions(sessions, events, options), UserError);
  EXPECT_THROW(split_sessions(sessions, user_log({"1"}, {"a"}), {SplitRule::Time, 10, 0}), UserError);
}

TEST(Split, NoneKeepsSessionsWhole) {
  const RawEvents events = user_log({"1", "1", "1"}, {"a", "b", "c"});
  const SplitPlan plan = split_sessions(sessionize(events, 0), events, {SplitRule::None, 0, 0});
  ASSERT_EQ(plan.train.size(), 1u);
  EXPECT_EQ(plan.train[0].length, 3);
  EXPECT_TRUE(plan.valid.empty());
  EXPECT_TRUE(plan.test.empty());
}

}  // namespace
}  // namespace seqrec
