#include "simulator/world.h"

#include <gtest/gtest.h>

#include <vector>

namespace faultline::sim {
namespace {

// A process that ticks every 10ms of its local clock and counts ticks in a shared tally.
struct Ticker : Process {
  runtime::ProcessContext ctx;
  int* ticks;
  int* alive;
  Ticker(const runtime::ProcessContext& c, int* t, int* a) : ctx(c), ticks(t), alive(a) {
    ++*alive;
    Tick();
  }
  ~Ticker() override { --*alive; }
  void Tick() {
    ctx.scheduler->ScheduleAfter(Duration::Millis(10), [this] {
      ++*ticks;
      Tick();
    });
  }
};

class WorldTest : public ::testing::Test {
 protected:
  WorldTest() : world_(WorldOptions{.seed = 9}) {
    node_ = world_.AddNode("ticker", [this](const runtime::ProcessContext& c) {
      incarnations_.push_back(c.incarnation);
      return std::make_unique<Ticker>(c, &ticks_, &alive_);
    });
    world_.Start(node_);
  }
  World world_;
  uint32_t node_;
  int ticks_ = 0;
  int alive_ = 0;
  std::vector<uint64_t> incarnations_;
};

TEST_F(WorldTest, TimersFireOnVirtualTime) {
  world_.RunFor(Duration::Millis(105));
  EXPECT_EQ(ticks_, 10);
  EXPECT_EQ(world_.trace().CountOf(TraceKind::kTimerFired), 10u);
}

TEST_F(WorldTest, CrashDestroysTheProcessAndItsTimersRestartBuildsANewIncarnation) {
  world_.RunFor(Duration::Millis(55));
  EXPECT_EQ(ticks_, 5);
  world_.Crash(node_, "test");
  EXPECT_EQ(alive_, 0);
  EXPECT_FALSE(world_.IsUp(node_));
  world_.RunFor(Duration::Millis(100));
  EXPECT_EQ(ticks_, 5) << "a crashed process's timers must not fire";
  world_.Restart(node_);
  EXPECT_EQ(alive_, 1);
  world_.RunFor(Duration::Millis(25));
  EXPECT_EQ(ticks_, 7);
  ASSERT_EQ(incarnations_.size(), 2u);
  EXPECT_EQ(incarnations_[0], 0u);
  EXPECT_EQ(incarnations_[1], 1u);
  EXPECT_GT(world_.loop().dropped(), 0u);
}

TEST_F(WorldTest, PauseStallsTheProcessAndResumeCatchesUp) {
  world_.RunFor(Duration::Millis(15));
  EXPECT_EQ(ticks_, 1);
  world_.Pause(node_);
  world_.RunFor(Duration::Millis(100));
  EXPECT_EQ(ticks_, 1);
  world_.Resume(node_);
  world_.RunFor(Duration::Millis(1));
  EXPECT_EQ(ticks_, 2) << "the held timer runs at resume; the next is 10ms later";
  world_.RunFor(Duration::Millis(10));
  EXPECT_EQ(ticks_, 3);
}

TEST_F(WorldTest, ClockSkewAndDrift) {
  world_.SetClock(node_, Duration::Millis(-30), 0);
  world_.RunFor(Duration::Millis(100));
  EXPECT_EQ(world_.LocalTime(node_), Time::Zero() + Duration::Millis(70));
  // 10% fast: local time runs ahead, and a 10ms local timer takes ~9.09ms of true time.
  world_.SetClock(node_, Duration::Zero(), 100'000);
  EXPECT_EQ(world_.LocalTime(node_), Time::Zero() + Duration::Millis(110));
  EXPECT_EQ(world_.ClockOffset(node_), Duration::Zero());
  EXPECT_EQ(world_.ClockDriftPpm(node_), 100'000);
  const int before = ticks_;
  world_.RunFor(Duration::Millis(100));
  EXPECT_GE(ticks_ - before, 10);
  EXPECT_LE(ticks_ - before, 11);
}

// A process that waits until its local clock reaches a deadline, as the checkpoint coordinator
// waits out a min pause: it re-arms for what is left whenever a timer finds the clock short.
struct DeadlineWaiter : Process {
  runtime::ProcessContext ctx;
  Time deadline;
  int* timers;
  bool* reached;
  DeadlineWaiter(const runtime::ProcessContext& c, int* t, bool* r)
      : ctx(c), timers(t), reached(r) {}
  void WaitUntil(Time local) {
    deadline = local;
    Arm();
  }
  void Arm() {
    const Duration left = deadline - ctx.clock->Now();
    if (left <= Duration::Zero()) {
      *reached = true;
      return;
    }
    ctx.scheduler->ScheduleAfter(left, [this] {
      ++*timers;
      Arm();
    });
  }
};

// Under drift a timer fires when the node's own clock has advanced by at least its delay, so a
// wait for the clock to reach a time ends (rounding the true delay down made a 1 ns wait on a
// fast clock a zero wait, and such a wait re-armed itself forever at one instant).
TEST(WorldClockTest, ADriftingClockHasAdvancedByTheDelayWhenItsTimerFires) {
  for (const int64_t drift : {-999'999, -500'000, -1, 1, 3, 333'333, 999'999, 5'000'000}) {
    for (const int64_t start_ns : {1, 7, 999'983, 123'456'789}) {
      World w(WorldOptions{.seed = 3});
      int timers = 0;
      bool reached = false;
      DeadlineWaiter* waiter = nullptr;
      const uint32_t n = w.AddNode("waiter", [&](const runtime::ProcessContext& c) {
        auto p = std::make_unique<DeadlineWaiter>(c, &timers, &reached);
        waiter = p.get();
        return p;
      });
      w.Start(n);
      w.SetClock(n, Duration::Zero(), drift);
      w.RunFor(Duration::Nanos(start_ns));
      waiter->WaitUntil(w.LocalTime(n) + Duration::Nanos(50));
      w.RunFor(Duration::Seconds(1));
      EXPECT_TRUE(reached) << "drift " << drift << " start " << start_ns;
      EXPECT_EQ(timers, 1) << "drift " << drift << " start " << start_ns
                           << ": the first timer should find the clock at its deadline";
    }
  }
}

TEST_F(WorldTest, ProcessContextIsComplete) {
  runtime::ProcessContext seen;
  World w(WorldOptions{});
  const uint32_t n = w.AddNode("p", [&](const runtime::ProcessContext& c) {
    seen = c;
    return std::make_unique<Process>();
  });
  w.Start(n);
  EXPECT_TRUE(runtime::IsComplete(seen));
  EXPECT_EQ(seen.node, n);
}

TEST_F(WorldTest, EngineEventsGoToTheTrace) {
  runtime::EventSink* sink = nullptr;
  World w(WorldOptions{});
  const uint32_t n = w.AddNode("p", [&](const runtime::ProcessContext& c) {
    sink = c.events;
    return std::make_unique<Process>();
  });
  w.Start(n);
  sink->Record(runtime::EngineEvent{.kind = 7, .args = {1, 2, 3}, .detail = "barrier"});
  ASSERT_EQ(w.trace().CountOf(TraceKind::kEngine), 1u);
  const TraceRecord& r = w.trace().records().back();
  EXPECT_EQ(r.args, (std::array<int64_t, 4>{7, 1, 2, 3}));
  EXPECT_EQ(r.detail, "barrier");
}

}  // namespace
}  // namespace faultline::sim
