#include "engine/checkpoint/barrier_tracker.h"

#include "base/assert.h"
#include "engine/exec/events.h"

namespace faultline::engine {

BarrierTracker::BarrierTracker(CheckpointableTask& task)
    : task_(task), input_count_(task.InputCount()) {}

void BarrierTracker::OnBarrier(size_t input, const BarrierInfo& barrier) {
  FL_ASSERT(input < input_count_, "a barrier on an input the task does not have");
  task_.RecordEvent({Ev(EngineEvent::kBarrierReceived),
                     {static_cast<int64_t>(barrier.checkpoint_id), static_cast<int64_t>(input), 0},
                     task_.Name()});
  if (barrier.checkpoint_id <= task_.LastCheckpoint()) return;  // stale: an aborted checkpoint
  Pending& pending = pending_[barrier.checkpoint_id];
  if (pending.inputs.empty()) {
    pending.barrier = barrier;
    pending.first_barrier = task_.Now();
  }
  pending.inputs.insert(input);
  MaybeComplete();
  // Bounded: the oldest incomplete one gives way.
  while (pending_.size() > kMaxPending) {
    task_.Decline(pending_.begin()->first, pending_.rbegin()->first);
    pending_.erase(pending_.begin());
  }
}

void BarrierTracker::MaybeComplete() {
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    bool complete = true;
    for (size_t i = 0; i < input_count_; ++i) {
      if (!task_.InputEnded(i) && !it->second.inputs.count(i)) complete = false;
    }
    if (!complete) continue;
    const uint64_t id = it->first;
    FL_ASSERT(id > last_taken_, "the barrier tracker took a checkpoint it had passed");
    last_taken_ = id;
    const BarrierInfo barrier = it->second.barrier;
    const Duration alignment = task_.Now() - it->second.first_barrier;
    // Older incomplete ones are subsumed: the coordinator aborts them when this one completes
    // (not a failure; no decline).
    pending_.erase(pending_.begin(), pending_.upper_bound(id));
    task_.RecordEvent({Ev(EngineEvent::kAligned), {static_cast<int64_t>(id), 0, 0}, task_.Name()});
    task_.TakeSnapshot(barrier, alignment);
    return;
  }
}

void BarrierTracker::OnEndOfData(size_t input) {
  FL_ASSERT(task_.InputEnded(input), "end of data on an input not marked ended");
  if (!pending_.empty()) MaybeComplete();
}

void BarrierTracker::OnCheckpointAborted(uint64_t checkpoint) {
  pending_.erase(checkpoint);
}

}  // namespace faultline::engine
