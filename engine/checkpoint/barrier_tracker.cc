#include "engine/checkpoint/barrier_tracker.h"

#include <algorithm>

#include "base/assert.h"
#include "engine/exec/events.h"

namespace faultline::engine {

BarrierTracker::BarrierTracker(CheckpointableTask& task)
    : task_(task), input_count_(task.InputCount()) {}

void BarrierTracker::OnBarrier(size_t input, const BarrierInfo& barrier) {
  FL_ASSERT(input < input_count_, "a barrier on an input the task does not have");
  task_.RecordEvent(MakeEvent(EngineEvent::kBarrierReceived, task_.Name(),
                              {.checkpoint = static_cast<int64_t>(barrier.checkpoint_id),
                               .input = static_cast<int64_t>(input)}));
  // Stale: a checkpoint taken, aborted or cancelled here.
  if (barrier.checkpoint_id <= task_.LastCheckpoint() || barrier.checkpoint_id <= last_cancelled_) {
    return;
  }
  Pending& pending = pending_[barrier.checkpoint_id];
  if (pending.inputs.empty()) {
    pending.barrier = barrier;
    pending.first_barrier = task_.Now();
  }
  pending.inputs.insert(input);
  MaybeComplete();
  // Bounded: the oldest incomplete one gives way.
  while (pending_.size() > kMaxPending) {
    const uint64_t oldest = pending_.begin()->first;
    pending_.erase(pending_.begin());
    last_cancelled_ = std::max(last_cancelled_, oldest);
    task_.Decline(oldest, DeclineReason::kSubsumed);  // newer ones overtook it
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
    task_.RecordEvent(MakeEvent(EngineEvent::kAligned, task_.Name(),
                                {.checkpoint = static_cast<int64_t>(id), .in_flight_buffers = 0}));
    task_.TakeSnapshot(barrier, alignment);
    return;
  }
}

void BarrierTracker::OnCancelMarker(size_t input, uint64_t checkpoint) {
  FL_ASSERT(input < input_count_, "a cancellation marker on an input the task does not have");
  task_.RecordEvent(MakeEvent(
      EngineEvent::kCancelMarkerReceived, task_.Name(),
      {.checkpoint = static_cast<int64_t>(checkpoint), .input = static_cast<int64_t>(input)}));
  if (checkpoint <= task_.LastCheckpoint() || checkpoint <= last_cancelled_) return;
  // As Flink's CheckpointBarrierTracker: forget it, and the older incomplete ones (their
  // barriers are stale from now on; a newer completion subsumes them at the coordinator).
  pending_.erase(pending_.begin(), pending_.upper_bound(checkpoint));
  last_cancelled_ = checkpoint;
  task_.Decline(checkpoint, DeclineReason::kCancellationMarker);
}

void BarrierTracker::OnEndOfData(size_t input) {
  FL_ASSERT(task_.InputEnded(input), "end of data on an input not marked ended");
  if (!pending_.empty()) MaybeComplete();
}

void BarrierTracker::OnCheckpointAborted(uint64_t checkpoint) {
  pending_.erase(checkpoint);
}

}  // namespace faultline::engine
