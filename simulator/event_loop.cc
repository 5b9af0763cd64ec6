#include "simulator/event_loop.h"

#include "base/assert.h"

namespace faultline::sim {

EventLoop::EventLoop(Options options) : options_(options) {
  heap_.reserve(1024);
}

EventLoop::~EventLoop() = default;

uint32_t EventLoop::AllocateSlot() {
  if (!free_slots_.empty()) {
    const uint32_t index = free_slots_.back();
    free_slots_.pop_back();
    return index;
  }
  if ((slots_used_ & (kChunkSize - 1)) == 0) {
    chunks_.push_back(std::make_unique<Slot[]>(kChunkSize));
  }
  return slots_used_++;
}

void EventLoop::FreeSlot(uint32_t index) {
  Slot& slot = SlotAt(index);
  slot.handler.Reset();
  slot.seq = 0;
  free_slots_.push_back(index);
}

EventId EventLoop::Schedule(Time at, EventHandler handler, EventOwner owner) {
  FL_ASSERT(at >= now_, "an event cannot be scheduled in the past");
  FL_ASSERT(static_cast<bool>(handler), "an event needs a handler");
  FL_ASSERT(heap_.size() + held_total_ < options_.pending_events_max,
            "pending events exceed pending_events_max: something schedules without bound");
  FL_ASSERT(owner.node == kWorldOwner || owner.node < nodes_.size(), "unknown owner node");
  const uint32_t index = AllocateSlot();
  Slot& slot = SlotAt(index);
  const uint64_t seq = next_seq_++;
  slot.handler = std::move(handler);
  slot.owner = owner;
  slot.seq = seq;
  Push(Key{at.nanos(), seq, index});
  if (heap_.size() > peak_pending_) peak_pending_ = heap_.size();
  return EventId{seq, index};
}

bool EventLoop::Cancel(EventId id) {
  if (id.seq == 0 || id.slot >= slots_used_) return false;
  Slot& slot = SlotAt(id.slot);
  if (slot.seq != id.seq) return false;
  slot.handler.Reset();
  slot.seq = 0;
  // A held slot stays in its node's held list until resume; otherwise the key stays in the
  // heap and is skipped when it surfaces, and the slot is free again.
  if (!slot.held) free_slots_.push_back(id.slot);
  return true;
}

uint32_t EventLoop::RegisterNode() {
  nodes_.emplace_back();
  return static_cast<uint32_t>(nodes_.size() - 1);
}

void EventLoop::BumpIncarnation(uint32_t node) {
  NodeState& state = nodes_[node];
  ++state.incarnation;
  for (uint32_t index : state.held) {
    SlotAt(index).held = false;
    FreeSlot(index);
    ++dropped_;
  }
  held_total_ -= state.held.size();
  state.held.clear();
}

void EventLoop::SetPaused(uint32_t node, bool paused) {
  NodeState& state = nodes_[node];
  if (state.paused == paused) return;
  state.paused = paused;
  if (paused) return;
  // Resume: held events run now, in the order they came due, after events already at now.
  for (uint32_t index : state.held) {
    Slot& slot = SlotAt(index);
    slot.held = false;
    if (slot.seq == 0) {  // cancelled while held
      FreeSlot(index);
      continue;
    }
    slot.seq = next_seq_++;
    Push(Key{now_.nanos(), slot.seq, index});
  }
  held_total_ -= state.held.size();
  state.held.clear();
}

void EventLoop::Push(Key key) {
  // 4-ary heap: sift up.
  size_t i = heap_.size();
  heap_.push_back(key);
  while (i > 0) {
    const size_t parent = (i - 1) / 4;
    if (!Before(key, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = key;
}

void EventLoop::SiftDown(size_t i) {
  const size_t n = heap_.size();
  const Key key = heap_[i];
  for (;;) {
    const size_t first = 4 * i + 1;
    if (first >= n) break;
    size_t best = first;
    const size_t last = first + 4 < n ? first + 4 : n;
    for (size_t c = first + 1; c < last; ++c) {
      if (Before(heap_[c], heap_[best])) best = c;
    }
    if (!Before(heap_[best], key)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = key;
}

EventLoop::Key EventLoop::PopTop() {
  const Key top = heap_.front();
  const Key last = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) {
    heap_[0] = last;
    SiftDown(0);
  }
  return top;
}

bool EventLoop::Dispatch(const Key& key) {
  Slot& slot = SlotAt(key.slot);
  if (slot.seq != key.seq) return false;  // cancelled
  const EventOwner owner = slot.owner;
  if (owner.node != kWorldOwner) {
    NodeState& node = nodes_[owner.node];
    if (node.incarnation != owner.incarnation) {
      FreeSlot(key.slot);  // the incarnation it belonged to has crashed
      ++dropped_;
      return false;
    }
    if (node.paused) {
      slot.held = true;  // no longer in the heap; SetPaused(false) re-queues it
      node.held.push_back(key.slot);
      ++held_total_;
      return false;
    }
  }
  now_ = Time::FromNanos(key.time);
  ++executed_;
  current_seq_ = key.seq;
  slot.handler();  // slot addresses are stable: the handler may schedule more events
  current_seq_ = 0;
  FreeSlot(key.slot);
  return true;
}

bool EventLoop::Step() {
  while (!heap_.empty()) {
    const Key key = PopTop();
    if (Dispatch(key)) return true;
  }
  return false;
}

Time EventLoop::NextEventTime() const {
  return heap_.empty() ? Time::Max() : Time::FromNanos(heap_.front().time);
}

RunResult EventLoop::RunUntil(Time limit) {
  RunResult result{0, StopReason::kTimeLimit};
  while (!heap_.empty() && heap_.front().time <= limit.nanos()) {
    if (Dispatch(PopTop())) ++result.executed;
  }
  if (limit > now_) now_ = limit;
  return result;
}

RunResult EventLoop::RunEvents(uint64_t count) {
  RunResult result{0, StopReason::kEventLimit};
  while (result.executed < count) {
    if (!Step()) {
      result.reason = StopReason::kQuiescent;
      break;
    }
    ++result.executed;
  }
  return result;
}

RunResult EventLoop::RunUntilQuiescent(uint64_t max_events) {
  RunResult result = RunEvents(max_events);
  if (heap_.empty()) result.reason = StopReason::kQuiescent;
  return result;
}

RunResult EventLoop::RunWhile(const std::function<bool()>& keep_going, Time limit) {
  RunResult result{0, StopReason::kTimeLimit};
  while (!heap_.empty() && heap_.front().time <= limit.nanos()) {
    if (!keep_going()) {
      result.reason = StopReason::kPredicate;
      return result;
    }
    if (Dispatch(PopTop())) ++result.executed;
  }
  if (limit == Time::Max()) {
    result.reason = StopReason::kQuiescent;
  } else if (limit > now_) {
    now_ = limit;
  }
  return result;
}

}  // namespace faultline::sim
