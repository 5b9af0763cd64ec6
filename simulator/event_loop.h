// The simulation's one event queue. Events run in (time, insertion sequence) order; time jumps
// to the next event; nothing reads the wall clock. Single-threaded by design.
//
// Events may belong to a node incarnation: when the node crashes (its incarnation rises) its
// events vanish, and while the node is paused they are held back, then run in their original
// order on resume. The queue is a 4-ary min-heap of 24-byte keys over a chunked slab of
// handlers; no allocation per event once the slab has grown to the run's peak.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/inline_function.h"
#include "base/time.h"

namespace faultline::sim {

// 80 bytes: room for a runtime::Task (56) plus a pointer and an id.
using EventHandler = InlineFunction<void(), 80>;

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

enum class StopReason { kTimeLimit, kEventLimit, kQuiescent, kPredicate };

struct RunResult {
  uint64_t executed = 0;
  StopReason reason = StopReason::kQuiescent;
};

class EventLoop {
 public:
  struct Options {
    // Bound on pending events (queued, cancelled-but-queued and held for paused nodes).
    // Exceeding it is a programmer error: some component schedules without bound.
    size_t pending_events_max = size_t{1} << 22;
  };

  EventLoop() : EventLoop(Options{}) {}
  explicit EventLoop(Options options);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  Time now() const { return now_; }

  // Schedules `handler` at `at` (>= now).
  EventId Schedule(Time at, EventHandler handler, EventOwner owner = {});
  EventId ScheduleAfter(Duration delay, EventHandler handler, EventOwner owner = {}) {
    return Schedule(now_ + delay, std::move(handler), owner);
  }
  // Cancels a pending event; false if it already ran, was dropped or was cancelled.
  bool Cancel(EventId id);

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

  size_t pending() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }
  uint64_t executed() const { return executed_; }
  // The sequence number of the event now running (0 outside a handler).
  uint64_t current_seq() const { return current_seq_; }
  uint64_t dropped() const { return dropped_; }
  size_t peak_pending() const { return peak_pending_; }
  Time NextEventTime() const;

 private:
  struct Key {
    int64_t time;
    uint64_t seq;
    uint32_t slot;
  };
  struct Slot {
    EventHandler handler;
    EventOwner owner;
    uint64_t seq = 0;  // matches the Key while pending; 0 when free or cancelled
    bool held = false;  // held back for a paused node: owned by NodeState::held
  };
  struct NodeState {
    uint32_t incarnation = 0;
    bool paused = false;
    std::vector<uint32_t> held;  // slots, in the order they came due
  };
  static constexpr uint32_t kChunkBits = 12;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;

  static bool Before(const Key& a, const Key& b) {
    return a.time < b.time || (a.time == b.time && a.seq < b.seq);
  }
  Slot& SlotAt(uint32_t index) { return chunks_[index >> kChunkBits][index & (kChunkSize - 1)]; }
  uint32_t AllocateSlot();
  void FreeSlot(uint32_t index);
  void Push(Key key);
  Key PopTop();
  void SiftDown(size_t index);
  // Runs or disposes of the event under `key`; returns true if a handler ran.
  bool Dispatch(const Key& key);

  Options options_;
  Time now_;
  uint64_t next_seq_ = 1;
  uint64_t executed_ = 0;
  uint64_t current_seq_ = 0;
  uint64_t dropped_ = 0;
  size_t peak_pending_ = 0;
  size_t held_total_ = 0;
  std::vector<Key> heap_;
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::vector<uint32_t> free_slots_;
  uint32_t slots_used_ = 0;
  std::vector<NodeState> nodes_;
};

}  // namespace faultline::sim
