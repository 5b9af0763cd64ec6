#include "simulator/event_loop.h"

namespace faultline::sim {

EventLoop::EventLoop(Options options) : options_(options) {
  FL_ASSERT(options_.pending_events_max <= kSlotMask, "pending_events_max above 2^24");
  FL_ASSERT(options_.stuck_events_max > 0, "stuck_events_max must be positive");
}

EventLoop::~EventLoop() = default;

uint32_t EventLoop::AllocateSlot() {
  if (!free_slots_.empty()) {
    const uint32_t index = free_slots_.back();  // LIFO: the most recently freed line is hot
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
  slot.state = 0;
  free_slots_.push_back(index);
}

uint32_t EventLoop::PrepareSlot(Time at, EventOwner owner) {
  FL_ASSERT(at >= now_, "an event cannot be scheduled in the past");
  FL_ASSERT(heap_.size() + held_total_ < options_.pending_events_max,
            "pending events exceed pending_events_max: something schedules without bound");
  FL_ASSERT(owner.node == kWorldOwner || owner.node < nodes_.size(), "unknown owner node");
  const uint32_t index = AllocateSlot();
  SlotAt(index).owner = owner;
  return index;
}

EventId EventLoop::Commit(Time at, uint32_t index, uint64_t flags) {
  Slot& slot = SlotAt(index);
  FL_ASSERT(static_cast<bool>(slot.handler), "an event needs a handler");
  FL_ASSERT(next_seq_ <= kSeqMax, "event sequence numbers exhausted");
  const uint64_t seq = next_seq_++;
  slot.state = seq | flags;
  heap_.Push(MakeKey(at, seq, index).packed);
  if (heap_.size() > peak_pending_) peak_pending_ = heap_.size();
  return EventId{seq, index};
}

bool EventLoop::Cancel(EventId id) {
  if (id.seq == 0 || id.slot >= slots_used_) return false;
  // The event now running cannot be cancelled: its handler is executing (and a timer that
  // cancels itself, e.g. a timeout handler, must not free the slot under its own feet).
  if (id.seq == current_seq_) return false;
  Slot& slot = SlotAt(id.slot);
  if ((slot.state & kSeqMask) != id.seq) return false;
  slot.handler.Reset();
  if (slot.state & kHeldBit) {
    slot.state = kHeldBit;  // cancelled; its node's held list still owns the slot
  } else {
    // The key stays in the heap and is skipped when it surfaces; the slot is free again.
    slot.state = 0;
    free_slots_.push_back(id.slot);
  }
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
  // Resume: held events are due now. They keep their sequence numbers (their identity for
  // Cancel and the trace), so they run in the order they came due.
  for (uint32_t index : state.held) {
    Slot& slot = SlotAt(index);
    slot.state &= ~kHeldBit;
    const uint64_t seq = slot.state & kSeqMask;
    if (seq == 0) {  // cancelled while held
      FreeSlot(index);
      continue;
    }
    heap_.Push(MakeKey(now_, seq, index).packed);
  }
  held_total_ -= state.held.size();
  state.held.clear();
}

bool EventLoop::Dispatch(Key key) {
  const uint32_t index = key.slot();
  Slot& slot = SlotAt(index);
  const uint64_t seq = key.seq();
  if ((slot.state & kSeqMask) != seq || (slot.state & kHeldBit)) return false;  // cancelled
  const EventOwner owner = slot.owner;
  if (owner.node != kWorldOwner) {
    NodeState& node = nodes_[owner.node];
    if (node.incarnation != owner.incarnation) {
      FreeSlot(index);  // the incarnation it belonged to has crashed
      ++dropped_;
      return false;
    }
    if (node.paused) {
      slot.state |= kHeldBit;  // out of the heap; SetPaused(false) re-queues it
      node.held.push_back(index);
      ++held_total_;
      return false;
    }
  }
  now_ = key.time();
  if (now_ - window_start_ >= options_.stuck_window) {
    window_start_ = now_;
    window_events_ = 0;
  }
  if (++window_events_ > options_.stuck_events_max) {
    // Time has stopped: leave this event queued (its slot intact) and run nothing more.
    stuck_ = Stuck{now_, window_events_ - 1};
    heap_.Push(key.packed);
    return false;
  }
  ++executed_;
  if (!heap_.empty()) {
    // The next event's slot was written long ago and is likely out of L1: fetch it while this
    // handler runs. (A hint only; it changes no result.)
    __builtin_prefetch(&SlotAt(Key{heap_.top()}.slot()));
  }
  current_seq_ = seq;
  if ((slot.state & kTimerBit) && timer_observer_ != nullptr) {
    timer_observer_->OnTimerFired(owner, seq);
  }
  slot.handler();  // slot addresses are stable: the handler may schedule more events
  current_seq_ = 0;
  FreeSlot(index);
  return true;
}

bool EventLoop::Step() {
  while (Runnable() && !heap_.empty()) {
    if (Dispatch(Key{heap_.Pop()})) return true;
  }
  return false;
}

Time EventLoop::NextEventTime() const {
  return heap_.empty() ? Time::Max() : Key{heap_.top()}.time();
}

RunResult EventLoop::RunUntil(Time limit) {
  RunResult result{0, StopReason::kTimeLimit};
  while (Runnable() && !heap_.empty() && Key{heap_.top()}.time() <= limit) {
    if (Dispatch(Key{heap_.Pop()})) ++result.executed;
  }
  if (!Runnable()) {
    result.reason = StopReason::kStuck;
  } else if (limit > now_) {
    now_ = limit;
  }
  return result;
}

RunResult EventLoop::RunEvents(uint64_t count) {
  RunResult result{0, StopReason::kEventLimit};
  while (result.executed < count) {
    if (!Step()) {
      result.reason = Runnable() ? StopReason::kQuiescent : StopReason::kStuck;
      break;
    }
    ++result.executed;
  }
  return result;
}

RunResult EventLoop::RunUntilQuiescent(uint64_t max_events) {
  RunResult result = RunEvents(max_events);
  if (Runnable() && heap_.empty()) result.reason = StopReason::kQuiescent;
  return result;
}

RunResult EventLoop::RunWhile(const std::function<bool()>& keep_going, Time limit) {
  RunResult result{0, StopReason::kTimeLimit};
  while (Runnable() && !heap_.empty() && Key{heap_.top()}.time() <= limit) {
    if (!keep_going()) {
      result.reason = StopReason::kPredicate;
      return result;
    }
    if (Dispatch(Key{heap_.Pop()})) ++result.executed;
  }
  if (!Runnable()) {
    result.reason = StopReason::kStuck;
  } else if (limit == Time::Max()) {
    result.reason = StopReason::kQuiescent;
  } else if (limit > now_) {
    now_ = limit;
  }
  return result;
}

}  // namespace faultline::sim
