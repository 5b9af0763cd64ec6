#include "simulator/event_loop.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace faultline::sim {
namespace {

Time At(int64_t ms) {
  return Time::Zero() + Duration::Millis(ms);
}

TEST(EventLoopTest, RunsInTimeThenInsertionOrder) {
  EventLoop loop;
  std::string order;
  loop.Schedule(At(5), [&] { order += 'c'; });
  loop.Schedule(At(1), [&] { order += 'a'; });
  loop.Schedule(At(5), [&] { order += 'd'; });  // same time as c: after it
  loop.Schedule(At(3), [&] { order += 'b'; });
  loop.Schedule(At(5), [&] { order += 'e'; });
  EXPECT_EQ(loop.RunUntilQuiescent(100).executed, 5u);
  EXPECT_EQ(order, "abcde");
  EXPECT_EQ(loop.now(), At(5));
}

TEST(EventLoopTest, TiesAtTheSameTimeKeepInsertionOrderAtScale) {
  EventLoop loop;
  std::vector<int> seen;
  for (int i = 0; i < 5000; ++i) {
    loop.Schedule(At(i % 7), [&seen, i] { seen.push_back(i); });
  }
  loop.RunUntilQuiescent(10'000);
  ASSERT_EQ(seen.size(), 5000u);
  for (size_t k = 1; k < seen.size(); ++k) {
    const int a = seen[k - 1];
    const int b = seen[k];
    ASSERT_TRUE(a % 7 < b % 7 || (a % 7 == b % 7 && a < b)) << a << " before " << b;
  }
}

TEST(EventLoopTest, TimeJumpsAndEventsScheduledFromHandlersRun) {
  EventLoop loop;
  std::vector<int64_t> times;
  loop.Schedule(At(1000), [&] {
    times.push_back(loop.now().nanos());
    loop.ScheduleAfter(Duration::Zero(), [&] { times.push_back(loop.now().nanos()); });
    loop.ScheduleAfter(Duration::Seconds(10), [&] { times.push_back(loop.now().nanos()); });
  });
  loop.RunUntilQuiescent(10);
  ASSERT_EQ(times.size(), 3u);
  EXPECT_EQ(times[0], At(1000).nanos());
  EXPECT_EQ(times[1], At(1000).nanos());
  EXPECT_EQ(times[2], At(11000).nanos());
}

TEST(EventLoopTest, RunUntilStopsAtTheLimitAndAdvancesTime) {
  EventLoop loop;
  int ran = 0;
  loop.Schedule(At(10), [&] { ++ran; });
  loop.Schedule(At(20), [&] { ++ran; });
  RunResult r = loop.RunUntil(At(15));
  EXPECT_EQ(r.executed, 1u);
  EXPECT_EQ(r.reason, StopReason::kTimeLimit);
  EXPECT_EQ(loop.now(), At(15));
  EXPECT_EQ(loop.pending(), 1u);
  r = loop.RunUntil(At(20));  // inclusive
  EXPECT_EQ(ran, 2);
}

TEST(EventLoopTest, RunEventsAndRunWhile) {
  EventLoop loop;
  int ran = 0;
  for (int i = 0; i < 10; ++i) loop.Schedule(At(i), [&] { ++ran; });
  EXPECT_EQ(loop.RunEvents(3).reason, StopReason::kEventLimit);
  EXPECT_EQ(ran, 3);
  RunResult r = loop.RunWhile([&] { return ran < 7; }, Time::Max());
  EXPECT_EQ(r.reason, StopReason::kPredicate);
  EXPECT_EQ(ran, 7);
  r = loop.RunEvents(100);
  EXPECT_EQ(r.reason, StopReason::kQuiescent);
  EXPECT_EQ(ran, 10);
}

TEST(EventLoopTest, CancelledEventsNeverRun) {
  EventLoop loop;
  int ran = 0;
  EventId a = loop.Schedule(At(1), [&] { ran += 1; });
  EventId b = loop.Schedule(At(2), [&] { ran += 10; });
  EXPECT_TRUE(loop.Cancel(a));
  EXPECT_FALSE(loop.Cancel(a));
  loop.RunUntilQuiescent(10);
  EXPECT_EQ(ran, 10);
  EXPECT_FALSE(loop.Cancel(b));  // already ran
  // A reused slot does not make an old id valid again.
  EventId c = loop.Schedule(At(3), [&] { ran += 100; });
  EXPECT_FALSE(loop.Cancel(a));
  EXPECT_FALSE(loop.Cancel(b));
  loop.RunUntilQuiescent(10);
  EXPECT_EQ(ran, 110);
  (void)c;
}

TEST(EventLoopTest, AnEventCannotCancelItselfWhileRunning) {
  EventLoop loop;
  EventId self;
  int ran = 0;
  int other = 0;
  self = loop.Schedule(At(1), [&] {
    EXPECT_FALSE(loop.Cancel(self));
    // The slot must not be freed and reused while this handler runs.
    loop.Schedule(At(2), [&] { ++other; });
    ++ran;
  });
  loop.Schedule(At(3), [&] { ++other; });
  loop.RunUntilQuiescent(10);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(other, 2);
}

TEST(EventLoopTest, EventsOfACrashedIncarnationVanish) {
  EventLoop loop;
  const uint32_t node = loop.RegisterNode();
  int ran = 0;
  loop.Schedule(
      At(5), [&] { ran += 1; }, EventOwner{node, loop.Incarnation(node)});
  loop.Schedule(At(6), [&] { ran += 10; });  // world-owned
  loop.BumpIncarnation(node);
  loop.Schedule(
      At(7), [&] { ran += 100; }, EventOwner{node, loop.Incarnation(node)});
  loop.RunUntilQuiescent(10);
  EXPECT_EQ(ran, 110);
  EXPECT_EQ(loop.dropped(), 1u);
}

TEST(EventLoopTest, PausedNodesEventsAreHeldThenRunInOrder) {
  EventLoop loop;
  const uint32_t node = loop.RegisterNode();
  const EventOwner owner{node, 0};
  std::string order;
  loop.Schedule(
      At(1), [&] { order += 'a'; }, owner);
  loop.Schedule(
      At(2), [&] { order += 'b'; }, owner);
  EventId c = loop.Schedule(
      At(3), [&] { order += 'c'; }, owner);
  loop.Schedule(
      At(4), [&] { order += 'd'; }, owner);
  loop.Schedule(At(3), [&] { order += 'W'; });  // the world goes on
  loop.SetPaused(node, true);
  loop.RunUntil(At(10));
  EXPECT_EQ(order, "W");
  EXPECT_EQ(loop.HeldEvents(node), 4u);
  EXPECT_TRUE(loop.Cancel(c));  // cancel while held
  loop.SetPaused(node, false);
  loop.RunUntilQuiescent(10);
  EXPECT_EQ(order, "Wabd");
  EXPECT_EQ(loop.now(), At(10));  // held events ran at resume time
}

TEST(EventLoopTest, CrashWhilePausedDropsHeldEvents) {
  EventLoop loop;
  const uint32_t node = loop.RegisterNode();
  int ran = 0;
  loop.Schedule(
      At(1), [&] { ++ran; }, EventOwner{node, 0});
  loop.SetPaused(node, true);
  loop.RunUntil(At(2));
  loop.BumpIncarnation(node);
  loop.SetPaused(node, false);
  loop.RunUntilQuiescent(10);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(loop.dropped(), 1u);
}

TEST(EventLoopTest, SlotsAreReusedSoMemoryStaysBounded) {
  EventLoop loop;
  int64_t sum = 0;
  // A self-rescheduling chain: never more than one pending event.
  std::function<void()> tick;
  int remaining = 100'000;
  tick = [&] {
    sum += 1;
    if (--remaining > 0) loop.ScheduleAfter(Duration::Nanos(1), [&] { tick(); });
  };
  loop.Schedule(At(0), [&] { tick(); });
  loop.RunUntilQuiescent(200'000);
  EXPECT_EQ(sum, 100'000);
  EXPECT_LE(loop.peak_pending(), 2u);
}

// An event that reschedules itself `step` later, for ever.
struct Spinner {
  EventLoop* loop;
  Duration step;
  uint64_t runs = 0;
  void Arm() {
    loop->ScheduleAfter(step, [this] {
      ++runs;
      Arm();
    });
  }
};

TEST(EventLoopTest, ALivelockAtOneInstantStopsTheLoopForGood) {
  EventLoop loop(EventLoop::Options{.stuck_events_max = 1000, .stuck_window = Duration::Millis(1)});
  int before = 0;
  loop.Schedule(At(1), [&] { ++before; });
  Spinner spin{&loop, Duration::Zero()};
  loop.Schedule(At(5), [&] { spin.Arm(); });
  int after = 0;
  loop.Schedule(At(7), [&] { ++after; });

  const RunResult result = loop.RunUntil(At(100));
  EXPECT_EQ(result.reason, StopReason::kStuck);
  EXPECT_EQ(before, 1);
  EXPECT_EQ(after, 0);
  ASSERT_TRUE(loop.stuck().has_value());
  EXPECT_EQ(loop.stuck()->at, At(5));
  EXPECT_EQ(loop.stuck()->events, 1000u);
  // Time stays where it stopped and nothing more runs, whatever the caller asks.
  EXPECT_EQ(loop.now(), At(5));
  const uint64_t runs = spin.runs;
  EXPECT_EQ(loop.RunUntil(At(200)).reason, StopReason::kStuck);
  EXPECT_EQ(loop.RunUntilQuiescent(10).reason, StopReason::kStuck);
  EXPECT_FALSE(loop.Step());
  EXPECT_EQ(loop.RunWhile([] { return true; }, Time::Max()).reason, StopReason::kStuck);
  EXPECT_EQ(spin.runs, runs);
  EXPECT_EQ(after, 0);
  EXPECT_EQ(loop.now(), At(5));
}

TEST(EventLoopTest, ALivelockCreepingForwardInTinyStepsIsCaughtToo) {
  EventLoop loop(EventLoop::Options{.stuck_events_max = 1000, .stuck_window = Duration::Millis(1)});
  Spinner spin{&loop, Duration::Nanos(3)};
  loop.Schedule(At(2), [&] { spin.Arm(); });
  EXPECT_EQ(loop.RunUntil(At(1000)).reason, StopReason::kStuck);
  ASSERT_TRUE(loop.stuck().has_value());
  EXPECT_GT(loop.stuck()->at, At(2));
  EXPECT_LT(loop.stuck()->at, At(2) + Duration::Micros(4));
  EXPECT_EQ(loop.now(), loop.stuck()->at);
}

TEST(EventLoopTest, BusyButAdvancingRunsDoNotTripTheGuard) {
  EventLoop loop(EventLoop::Options{.stuck_events_max = 1000, .stuck_window = Duration::Millis(1)});
  // A burst of exactly the bound at one instant, then a steady chain one window apart.
  int burst = 0;
  for (int i = 0; i < 999; ++i) loop.Schedule(At(1), [&] { ++burst; });
  Spinner spin{&loop, Duration::Millis(1)};
  loop.Schedule(At(1), [&] { spin.Arm(); });
  EXPECT_EQ(loop.RunUntil(At(50'000)).reason, StopReason::kTimeLimit);
  EXPECT_FALSE(loop.stuck().has_value());
  EXPECT_EQ(burst, 999);
  EXPECT_EQ(spin.runs, 49'999u);
  EXPECT_EQ(loop.now(), At(50'000));
}

TEST(EventLoopDeathTest, BoundedQueueRejectsRunawayScheduling) {
  EventLoop loop(EventLoop::Options{.pending_events_max = 100});
  EXPECT_DEATH(
      {
        for (int i = 0; i < 200; ++i) loop.Schedule(At(1), [] {});
      },
      "pending_events_max");
}

TEST(EventLoopDeathTest, SchedulingInThePastIsAProgrammerError) {
  EventLoop loop;
  loop.RunUntil(At(10));
  EXPECT_DEATH(loop.Schedule(At(5), [] {}), "in the past");
}

}  // namespace
}  // namespace faultline::sim
