#include "engine/checkpoint/aligned_barrier_handler.h"

#include <algorithm>

#include "base/assert.h"
#include "engine/exec/events.h"

namespace faultline::engine {

AlignedBarrierHandler::AlignedBarrierHandler(const BarrierHandlerOptions& options,
                                             CheckpointableTask& task)
    : options_(options),
      task_(task),
      received_(task.InputCount(), false),
      blocked_(task.InputCount(), false) {}

void AlignedBarrierHandler::CheckInvariants() const {
  for (size_t i = 0; i < blocked_.size(); ++i) {
    FL_ASSERT(!blocked_[i] || (aligning_ && received_[i]),
              "a blocked input without the barrier of the checkpoint being aligned");
  }
}

void AlignedBarrierHandler::RecordReceived(size_t input, const BarrierInfo& barrier) {
  FL_ASSERT(input < received_.size(), "a barrier on an input the task does not have");
  task_.RecordEvent(MakeEvent(EngineEvent::kBarrierReceived, task_.Name(),
                              {.checkpoint = static_cast<int64_t>(barrier.checkpoint_id),
                               .input = static_cast<int64_t>(input)}));
}

bool AlignedBarrierHandler::Stale(uint64_t id) const {
  // Taken or aborted (the task's record), or passed here: a barrier older than the newest
  // checkpoint started, or of that one once it was declined or cancelled. A late barrier of a
  // subsumed checkpoint must never count toward a newer alignment, nor start its checkpoint.
  return id <= task_.LastCheckpoint() || id < last_started_ ||
         (id == last_started_ && !InProgress(id));
}

void AlignedBarrierHandler::NoteStarted(uint64_t checkpoint) {
  FL_ASSERT(checkpoint > last_started_, "a barrier handler started a checkpoint it had passed");
  last_started_ = checkpoint;
}

void AlignedBarrierHandler::OnBarrier(size_t input, const BarrierInfo& barrier) {
  const InvariantScope checked(*this);
  RecordReceived(input, barrier);
  if (Stale(barrier)) return;
  Align(input, barrier);
}

void AlignedBarrierHandler::Align(size_t input, const BarrierInfo& barrier) {
  FL_ASSERT(!barrier.unaligned, "an unaligned barrier is never aligned");
  // Barrier n+1 before n completed here: n cannot complete; decline it and align n+1.
  DeclineOlderAlignment(barrier.checkpoint_id);
  if (!aligning_) StartAlignment(barrier);
  // Exactly-once: an input that delivered the barrier is blocked until alignment completes.
  if (!options_.no_alignment) {
    task_.BlockInput(input);
    blocked_[input] = true;
  }
  received_[input] = true;
  if (AllLiveInputsHaveTheBarrier()) CompleteAlignment(barrier);
}

void AlignedBarrierHandler::StartAlignment(const BarrierInfo& barrier) {
  NoteStarted(barrier.checkpoint_id);
  aligning_ = barrier.checkpoint_id;
  aligning_barrier_ = barrier;
  alignment_started_ = task_.Now();
  const Duration timeout = options_.aligned_timeout;
  if (timeout > Duration::Zero()) {
    // Aligned-checkpoint timeout: measured from the trigger, as Flink does.
    const Duration left = std::max(Duration::Zero(), barrier.timestamp + timeout - task_.Now());
    task_.ScheduleTimeout(left, barrier.checkpoint_id);
  }
}

bool AlignedBarrierHandler::AllLiveInputsHaveTheBarrier() const {
  // Counted per channel, not per barrier: a channel that delivered the barrier and then ended
  // must not make up for a live one still missing it.
  for (size_t i = 0; i < received_.size(); ++i) {
    if (!task_.InputEnded(i) && !received_[i]) return false;
  }
  return true;
}

void AlignedBarrierHandler::CompleteAlignment(const BarrierInfo& barrier) {
  FL_ASSERT(aligning_.has_value() && AllLiveInputsHaveTheBarrier(),
            "alignment completed before every live input delivered the barrier");
  const Duration alignment = task_.Now() - alignment_started_;
  task_.RecordEvent(MakeEvent(
      EngineEvent::kAligned, task_.Name(),
      {.checkpoint = static_cast<int64_t>(barrier.checkpoint_id), .in_flight_buffers = 0}));
  ResetAlignment();
  task_.TakeSnapshot(barrier, alignment);
}

void AlignedBarrierHandler::ResetAlignment() {
  aligning_.reset();
  task_.UnblockInputs();
  std::fill(blocked_.begin(), blocked_.end(), false);
  std::fill(received_.begin(), received_.end(), false);
}

void AlignedBarrierHandler::DeclineOlderAlignment(uint64_t newer) {
  if (!aligning_ || *aligning_ >= newer) return;
  task_.Decline(*aligning_, DeclineReason::kSubsumed);
  ResetAlignment();
}

void AlignedBarrierHandler::OnCancelMarker(size_t input, uint64_t checkpoint) {
  const InvariantScope checked(*this);
  FL_ASSERT(input < received_.size(), "a cancellation marker on an input the task does not have");
  task_.RecordEvent(MakeEvent(
      EngineEvent::kCancelMarkerReceived, task_.Name(),
      {.checkpoint = static_cast<int64_t>(checkpoint), .input = static_cast<int64_t>(input)}));
  if (Stale(checkpoint)) return;
  CancelAlignment(checkpoint);
}

void AlignedBarrierHandler::CancelAlignment(uint64_t checkpoint) {
  // As Flink's processCancellationBarrier: the alignment of the cancelled checkpoint (or of an
  // older one, which cannot complete either) ends now; the blocked inputs are released.
  DeclineOlderAlignment(checkpoint);
  const bool was_aligning = aligning_.has_value();
  if (was_aligning) ResetAlignment();
  if (checkpoint > last_started_) last_started_ = checkpoint;  // its later barriers are stale
  task_.Decline(checkpoint, DeclineReason::kCancellationMarker);
  if (was_aligning) task_.ScheduleStep();
}

void AlignedBarrierHandler::OnEndOfData(size_t input) {
  const InvariantScope checked(*this);
  FL_ASSERT(task_.InputEnded(input), "end of data on an input not marked ended");
  if (aligning_ && AllLiveInputsHaveTheBarrier()) CompleteAlignment(aligning_barrier_);
}

void AlignedBarrierHandler::OnCheckpointAborted(uint64_t checkpoint) {
  const InvariantScope checked(*this);
  if (aligning_ && *aligning_ == checkpoint) {
    ResetAlignment();
    task_.ScheduleStep();
  }
}

}  // namespace faultline::engine
