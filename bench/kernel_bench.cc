// Kernel benchmarks: events/s of the production event loop with tracing on, beside a bare
// std::priority_queue loop in the same binary (the baseline), and messages/s through a
// simulated credit-based channel. Figures go in docs/performance.md as ratios.
//
//   build/release/bench/kernel_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <cstdint>
#include <queue>
#include <vector>

#include "simulator/event_loop.h"
#include "simulator/trace.h"
#include "simulator/world.h"

namespace faultline::sim {
namespace {

// The same cheap delay sequence drives every loop, so they do the same scheduling work.
struct Delays {
  uint64_t x = 88172645463325252ULL;
  int64_t Next() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<int64_t>(x % 1000) + 1;
  }
};

constexpr int64_t kEventsPerIteration = 100'000;

// Baseline: a bare binary heap of (time, seq) pairs; the "handler" reschedules one event.
void BM_BarePriorityQueue(benchmark::State& state) {
  const auto pending = static_cast<size_t>(state.range(0));
  struct Entry {
    int64_t time;
    uint64_t seq;
    bool operator>(const Entry& o) const {
      return time > o.time || (time == o.time && seq > o.seq);
    }
  };
  for (auto _ : state) {
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
    Delays delays;
    uint64_t seq = 0;
    int64_t now = 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < pending; ++i) queue.push({delays.Next(), seq++});
    for (int64_t n = 0; n < kEventsPerIteration; ++n) {
      const Entry e = queue.top();
      queue.pop();
      now = e.time;
      sum += e.seq;  // the trivial handler
      queue.push({now + delays.Next(), seq++});
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kEventsPerIteration);
}
BENCHMARK(BM_BarePriorityQueue)->Arg(1000)->Arg(10000);

// The production loop with tracing on: every event records a trace record (hashed, not kept),
// as node timers do.
void BM_EventLoopTraced(benchmark::State& state) {
  const auto pending = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    EventLoop loop;
    TraceRecorder trace(TraceRecorder::Options{.keep_records = false});
    Delays delays;
    int64_t remaining = kEventsPerIteration;
    struct Tick {
      EventLoop* loop;
      TraceRecorder* trace;
      Delays* delays;
      int64_t* remaining;
      void operator()() const {
        trace->Record(loop->now(), TraceKind::kTimerFired, 0, 0,
                      {static_cast<int64_t>(loop->current_seq()), 0, 0, 0});
        if (--*remaining > 0) loop->ScheduleAfter(Duration::Nanos(delays->Next()), *this);
      }
    };
    const Tick tick{&loop, &trace, &delays, &remaining};
    for (size_t i = 0; i < pending; ++i) {
      loop.Schedule(Time::FromNanos(delays.Next()), tick);
    }
    loop.RunEvents(static_cast<uint64_t>(kEventsPerIteration));
    benchmark::DoNotOptimize(trace.hash());
  }
  state.SetItemsProcessed(state.iterations() * kEventsPerIteration);
}
BENCHMARK(BM_EventLoopTraced)->Arg(1000)->Arg(10000);

// Node timers through the runtime::Scheduler interface (what engine code uses): owner checks,
// the trace record per firing, and the Task wrapper.
void BM_NodeTimers(benchmark::State& state) {
  const auto pending = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    runtime::Scheduler* scheduler = nullptr;
    auto world = std::make_unique<World>(WorldOptions{.trace = {.keep_records = false}});
    const uint32_t node = world->AddNode("bench", [&](const runtime::ProcessContext& c) {
      scheduler = c.scheduler;
      return std::make_unique<Process>();
    });
    world->Start(node);
    Delays delays;
    int64_t remaining = kEventsPerIteration;
    struct Tick {
      runtime::Scheduler* scheduler;
      Delays* delays;
      int64_t* remaining;
      void operator()() const {
        if (--*remaining > 0) scheduler->ScheduleAfter(Duration::Nanos(delays->Next()), *this);
      }
    };
    const Tick tick{scheduler, &delays, &remaining};
    for (size_t i = 0; i < pending; ++i) {
      scheduler->ScheduleAfter(Duration::Nanos(delays.Next()), tick);
    }
    state.ResumeTiming();
    world->loop().RunEvents(static_cast<uint64_t>(kEventsPerIteration));
    benchmark::DoNotOptimize(world->trace().hash());
    state.PauseTiming();
    world.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kEventsPerIteration);
}
BENCHMARK(BM_NodeTimers)->Arg(1000)->Arg(10000);

// Messages through one credit-based channel: sender refills on every credit, receiver consumes
// at once. Each message is a send, a delivery and a credit return, all traced.
void BM_ChannelMessages(benchmark::State& state) {
  constexpr uint64_t kMessages = 100'000;
  const auto credits = static_cast<uint32_t>(state.range(0));
  struct Ends : runtime::ChannelListener {
    World* world = nullptr;
    runtime::ChannelId channel = 0;
    uint64_t sent = 0;
    uint64_t received = 0;
    runtime::Buffer next;  // kept when TrySend finds no credit, so its memory is reused
    void OnWritable(runtime::ChannelId) override { Pump(); }
    void Pump() {
      while (sent < kMessages) {
        if (next.empty()) {
          next = world->network().TakeBuffer();
          next.resize(64);
        }
        if (!world->network().TrySend(0, channel, next)) return;
        ++sent;
      }
    }
    void OnReceive(runtime::ChannelId id, runtime::Buffer&) override {
      ++received;
      world->network().ReturnCredit(1, id);
    }
  };
  for (auto _ : state) {
    state.PauseTiming();
    auto world = std::make_unique<World>(WorldOptions{.trace = {.keep_records = false}});
    world->AddNode("sender", nullptr);
    world->AddNode("receiver", nullptr);
    world->Start(0);
    world->Start(1);
    Ends ends;
    ends.world = world.get();
    (void)world->network().Listen(1, 1, &ends);
    ends.channel =
        world->network().Connect(0, runtime::Endpoint{1, 1}, {.credits = credits}, &ends);
    state.ResumeTiming();
    world->RunUntilQuiescent(10 * kMessages);
    if (ends.received != kMessages) state.SkipWithError("not every message arrived");
    state.PauseTiming();
    world.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kMessages));
}
BENCHMARK(BM_ChannelMessages)->Arg(2)->Arg(64);

}  // namespace
}  // namespace faultline::sim

BENCHMARK_MAIN();
