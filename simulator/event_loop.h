// The simulation's one event queue. Events run in (time, insertion sequence) order; time jumps
// to the next event; nothing reads the wall clock. Single-threaded by design.
//
// Events may belong to a node incarnation: when the node crashes (its incarnation rises) its
// events vanish, and while the node is paused they are held back, then run at resume in their
// original order. The queue is a binary min-heap (event_heap.h) of 16-byte keys
// (time, then sequence and slot packed into one 128-bit integer, so a comparison is
// branch-free) over a chunked slab of 64-byte slots, one cache line per pending event; no
// allocation per event once the slab has grown to the run's peak.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "base/assert.h"
#include "base/inline_function.h"
#include "base/int128.h"
#include "base/time.h"
#include "engine/runtime/scheduler.h"
#include "simulator/event_heap.h"

namespace faultline::sim {

// The same type as runtime::Task: 40 bytes of pointer-aligned captures.
using EventHandler = runtime::Task;

inline constexpr uint32_t kWorldOwner = 0xffffffffu;

// Who an event belongs to: a node's incarnation, or the world (never dropped nor held).
struct EventOwner {
  uint32_t node = kWorldOwner;
  uint32_t incarnation = 0;
};

struct EventId {
  uint64_t seq = 0;  // 0: no event
  uint32_t slot = 0;
};

// kStuck: the livelock guard tripped (EventLoop::stuck()); the loop runs nothing more.
enum class StopReason { kTimeLimit, kEventLimit, kQuiescent, kPredicate, kStuck };

struct RunResult {
  uint64_t executed = 0;
  StopReason reason = StopReason::kQuiescent;
};

// Told just before a timer event (ScheduleTimer) runs, so timer firings reach the trace
// without a wrapper around every timer's callable.
class TimerObserver {
 public:
  virtual ~TimerObserver() = default;
  virtual void OnTimerFired(EventOwner owner, uint64_t seq) = 0;
};

class EventLoop {
 public:
  struct Options {
    // Bound on pending events (queued, cancelled-but-queued and held for paused nodes).
    // Exceeding it is a programmer error: some component schedules without bound.
    size_t pending_events_max = size_t{1} << 22;
    // The livelock guard: more than `stuck_events_max` events while simulated time advances
    // less than `stuck_window` means time has stopped moving (something reschedules itself at
    // the same instant, or a hair later, for ever). The loop then stops for good and reports
    // it (stuck()), so a run ends with an error instead of hanging its caller. A healthy run
    // stays orders of magnitude below the bound (docs/performance.md).
    uint64_t stuck_events_max = uint64_t{1} << 22;
    Duration stuck_window = Duration::Millis(10);
  };

  // Why the livelock guard stopped the loop.
  struct Stuck {
    Time at;              // the instant the guard tripped
    uint64_t events = 0;  // events run while time advanced less than stuck_window
  };

  EventLoop() : EventLoop(Options{}) {}
  explicit EventLoop(Options options);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  Time now() const { return now_; }

  // Schedules `handler` (any callable that fits an EventHandler) at `at` (>= now). The
  // callable is built in place in the event's slot.
  template <typename F>
  EventId Schedule(Time at, F&& handler, EventOwner owner = {}) {
    return Insert(at, std::forward<F>(handler), owner, 0);
  }
  template <typename F>
  EventId ScheduleAfter(Duration delay, F&& handler, EventOwner owner = {}) {
    return Insert(now_ + delay, std::forward<F>(handler), owner, 0);
  }
  // A timer: the TimerObserver hears of it just before it runs.
  template <typename F>
  EventId ScheduleTimer(Time at, F&& handler, EventOwner owner) {
    return Insert(at, std::forward<F>(handler), owner, kTimerBit);
  }
  // Cancels a pending event; false if it already ran, was dropped or was cancelled.
  bool Cancel(EventId id);

  void SetTimerObserver(TimerObserver* observer) { timer_observer_ = observer; }

  // Node incarnations and pauses. Nodes are numbered 0..n-1 as registered.
  uint32_t RegisterNode();
  uint32_t Incarnation(uint32_t node) const { return nodes_[node].incarnation; }
  // Raises the incarnation: every pending event of the old one is dropped.
  void BumpIncarnation(uint32_t node);
  void SetPaused(uint32_t node, bool paused);
  bool IsPaused(uint32_t node) const { return nodes_[node].paused; }
  size_t HeldEvents(uint32_t node) const { return nodes_[node].held.size(); }

  // Runs one event, if any; returns false when the queue is empty.
  bool Step();
  // Runs every event at or before `limit`, then sets now to `limit` (if later).
  RunResult RunUntil(Time limit);
  RunResult RunFor(Duration span) { return RunUntil(now_ + span); }
  // Runs at most `count` events.
  RunResult RunEvents(uint64_t count);
  // Runs until no event is pending (held events of paused nodes do not count).
  RunResult RunUntilQuiescent(uint64_t max_events);
  // Runs while `keep_going()` is true before each event, up to `limit`.
  RunResult RunWhile(const std::function<bool()>& keep_going, Time limit);

  // Set once the livelock guard tripped; from then on no event runs and time does not advance.
  const std::optional<Stuck>& stuck() const { return stuck_; }

  size_t pending() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }
  uint64_t executed() const { return executed_; }
  uint64_t dropped() const { return dropped_; }
  size_t peak_pending() const { return peak_pending_; }
  Time NextEventTime() const;
  // The sequence number of the event now running (0 outside a handler).
  uint64_t current_seq() const { return current_seq_; }

 private:
  static constexpr uint32_t kSlotBits = 24;
  static constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
  static constexpr uint64_t kSeqMax = (uint64_t{1} << (64 - kSlotBits)) - 1;
  // Slot::state: the sequence number in the low bits (0: free or cancelled), and flags.
  static constexpr uint64_t kSeqMask = kSeqMax;
  static constexpr uint64_t kTimerBit = uint64_t{1} << 62;
  static constexpr uint64_t kHeldBit = uint64_t{1} << 63;

  // (time << 64) | (seq << kSlotBits) | slot: ordered by time, then by sequence.
  struct Key {
    Uint128 packed;
    Time time() const { return Time::FromNanos(static_cast<int64_t>(packed >> 64)); }
    uint64_t seq() const { return static_cast<uint64_t>(packed) >> kSlotBits; }
    uint32_t slot() const { return static_cast<uint32_t>(packed) & kSlotMask; }
  };
  static Key MakeKey(Time at, uint64_t seq, uint32_t slot) {
    return Key{(static_cast<Uint128>(static_cast<uint64_t>(at.nanos())) << 64) |
               (seq << kSlotBits) | slot};
  }

  // One cache line per pending event.
  struct alignas(64) Slot {
    uint64_t state = 0;
    EventOwner owner;
    EventHandler handler;
  };
  static_assert(sizeof(Slot) == 64, "a pending event must fit one cache line");

  struct NodeState {
    uint32_t incarnation = 0;
    bool paused = false;
    std::vector<uint32_t> held;  // slots, in the order they came due
  };
  static constexpr uint32_t kChunkBits = 12;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;

  template <typename F>
  EventId Insert(Time at, F&& handler, EventOwner owner, uint64_t flags) {
    const uint32_t index = PrepareSlot(at, owner);
    Slot& slot = SlotAt(index);
    if constexpr (std::is_same_v<std::decay_t<F>, EventHandler>) {
      slot.handler = std::move(handler);
    } else {
      slot.handler.Emplace(std::forward<F>(handler));
    }
    return Commit(at, index, flags);
  }

  Slot& SlotAt(uint32_t index) { return chunks_[index >> kChunkBits][index & (kChunkSize - 1)]; }
  uint32_t AllocateSlot();
  uint32_t PrepareSlot(Time at, EventOwner owner);
  EventId Commit(Time at, uint32_t index, uint64_t flags);
  void FreeSlot(uint32_t index);
  // Runs or disposes of the event under `key`; returns true if a handler ran.
  bool Dispatch(Key key);
  // True while an event may run (the livelock guard has not tripped).
  bool Runnable() const { return !stuck_.has_value(); }

  Options options_;
  Time now_;
  uint64_t next_seq_ = 1;
  uint64_t executed_ = 0;
  uint64_t dropped_ = 0;
  uint64_t current_seq_ = 0;
  size_t peak_pending_ = 0;
  size_t held_total_ = 0;
  EventHeap heap_;
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::vector<uint32_t> free_slots_;
  uint32_t slots_used_ = 0;
  std::vector<NodeState> nodes_;
  TimerObserver* timer_observer_ = nullptr;
  // The livelock guard's window: where it started and how many events ran in it.
  Time window_start_;
  uint64_t window_events_ = 0;
  std::optional<Stuck> stuck_;
};

}  // namespace faultline::sim
