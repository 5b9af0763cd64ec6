#include "engine/checkpoint/unaligned_barrier_handler.h"

#include <algorithm>

#include "base/assert.h"
#include "engine/exec/events.h"

namespace faultline::engine {

Result<bool> UnalignedBarrierHandler::OnArrival(size_t input, const Buffer& buffer) {
  const InvariantScope checked(*this);
  FL_ASSERT(input < received_.size(), "a buffer on an input the task does not have");
  const BufferType type = PeekType(buffer).value_or(BufferType::kRecords);
  if (type == BufferType::kBarrier) {
    FL_ASSIGN_OR_RETURN(const BarrierInfo barrier, DecodeBarrier(buffer));
    if (barrier.unaligned) {
      // An unaligned barrier is handled on arrival, ahead of the queued buffers. Sent as an
      // event (no credit taken), so no credit goes back. If this task is still aligning the
      // same checkpoint (the upstream timed out first), it switches to unaligned too.
      DeclineOlderAlignment(barrier.checkpoint_id);
      if (aligning_ && *aligning_ == barrier.checkpoint_id) SwitchToUnaligned();
      HandleUnalignedBarrier(input, barrier);
      return true;
    }
    if (recording_ && recording_->checkpoint == barrier.checkpoint_id) {
      // The in-band barrier of a checkpoint this task already switched to unaligned: what
      // came before it on this channel has been recorded; the channel's recording ends.
      task_.ReturnCredit(input);
      HandleUnalignedBarrier(input, barrier);
      return true;
    }
    // An aligned barrier (aligned-checkpoint timeout not reached): queued in order.
  }
  if (recording_ && !received_[input] && type == BufferType::kRecords) {
    recording_->in_flight.emplace_back(static_cast<uint32_t>(input), buffer);
  }
  return false;
}

void UnalignedBarrierHandler::OnBarrier(size_t input, const BarrierInfo& barrier) {
  const InvariantScope checked(*this);
  RecordReceived(input, barrier);
  if (Stale(barrier)) return;
  if (recording_ && barrier.checkpoint_id > recording_->checkpoint) {
    task_.Decline(recording_->checkpoint, DeclineReason::kSubsumed);
    AbandonRecording();
  }
  Align(input, barrier);
}

void UnalignedBarrierHandler::OnTimeout(uint64_t checkpoint) {
  const InvariantScope checked(*this);
  if (aligning_ && *aligning_ == checkpoint) SwitchToUnaligned();
}

void UnalignedBarrierHandler::SwitchToUnaligned() {
  FL_ASSERT(aligning_.has_value(), "switching a checkpoint that is not being aligned");
  FL_ASSERT(!recording_, "switching to unaligned while recording another checkpoint");
  BarrierInfo barrier = aligning_barrier_;
  barrier.unaligned = true;
  std::vector<bool> received = received_;
  ChannelBuffers in_flight = task_.CollectInFlight(barrier.checkpoint_id, received);
  task_.RecordEvent(MakeEvent(EngineEvent::kAlignmentTimedOut, task_.Name(),
                              {.checkpoint = static_cast<int64_t>(barrier.checkpoint_id),
                               .in_flight_buffers = static_cast<int64_t>(in_flight.size()),
                               .output_side = 0}));
  ResetAlignment();
  if (!StartRecording(barrier, std::move(received), std::move(in_flight))) return;  // failed
  MaybeFinishRecording();
  task_.ScheduleStep();
}

void UnalignedBarrierHandler::HandleUnalignedBarrier(size_t input, const BarrierInfo& barrier) {
  RecordReceived(input, barrier);
  if (recording_ && barrier.checkpoint_id > recording_->checkpoint) {
    // Barrier n+1 before n arrived everywhere: n cannot complete here.
    task_.Decline(recording_->checkpoint, DeclineReason::kSubsumed);
    AbandonRecording();
  }
  if (!recording_) {
    // Older than the newest checkpoint started here (a late barrier of one the aligned phase
    // declined, say): stale, as in the aligned handler; it never starts its checkpoint.
    if (Stale(barrier)) return;
    // The first barrier n overtakes everything queued on every input (up to an aligned
    // barrier n already queued, with the aligned-checkpoint timeout): all of it is in flight
    // with respect to the snapshot taken now.
    NoteStarted(barrier.checkpoint_id);
    std::vector<bool> received(received_.size(), false);
    ChannelBuffers queued = task_.CollectInFlight(barrier.checkpoint_id, received);
    if (!StartRecording(barrier, std::move(received), std::move(queued))) return;  // failed
  } else if (barrier.checkpoint_id < recording_->checkpoint) {
    return;
  }
  received_[input] = true;
  MaybeFinishRecording();
}

bool UnalignedBarrierHandler::StartRecording(const BarrierInfo& barrier, std::vector<bool> received,
                                             ChannelBuffers in_flight) {
  FL_ASSERT(barrier.unaligned && !recording_);
  if (!task_.TakeSnapshot(barrier, Duration::Zero())) return false;
  recording_ = Recording{barrier.checkpoint_id, std::move(in_flight), task_.Now()};
  received_ = std::move(received);
  return true;
}

void UnalignedBarrierHandler::MaybeFinishRecording() {
  if (!recording_) return;
  for (size_t i = 0; i < received_.size(); ++i) {
    if (!task_.InputEnded(i) && !received_[i]) return;
  }
  // Every live input delivered barrier n (or ended): the recording of n is complete.
  Recording done = std::move(*recording_);
  recording_.reset();
  std::fill(received_.begin(), received_.end(), false);  // ready for the next one
  // Every input delivered barrier n: the in-flight data of n is complete.
  task_.RecordEvent(MakeEvent(EngineEvent::kAligned, task_.Name(),
                              {.checkpoint = static_cast<int64_t>(done.checkpoint),
                               .in_flight_buffers = static_cast<int64_t>(done.in_flight.size())}));
  task_.PersistChannelState(done.checkpoint, std::move(done.in_flight), task_.Now() - done.started);
}

void UnalignedBarrierHandler::AbandonRecording() {
  FL_ASSERT(recording_.has_value());
  task_.AbandonChannelState(recording_->checkpoint);
  recording_.reset();
  // The inputs that delivered its barrier say nothing about the next checkpoint.
  std::fill(received_.begin(), received_.end(), false);
}

void UnalignedBarrierHandler::OnCancelMarker(size_t input, uint64_t checkpoint) {
  const InvariantScope checked(*this);
  FL_ASSERT(input < received_.size(), "a cancellation marker on an input the task does not have");
  task_.RecordEvent(MakeEvent(
      EngineEvent::kCancelMarkerReceived, task_.Name(),
      {.checkpoint = static_cast<int64_t>(checkpoint), .input = static_cast<int64_t>(input)}));
  if (recording_ && recording_->checkpoint == checkpoint) {
    // Its snapshot is taken and its barrier forwarded, but it cannot complete: abort it here,
    // and the marker tells the consumers to abort it too.
    AbandonRecording();
    task_.Decline(checkpoint, DeclineReason::kCancellationMarker);
    return;
  }
  if (Stale(checkpoint)) return;
  if (recording_ && recording_->checkpoint < checkpoint) {
    task_.Decline(recording_->checkpoint, DeclineReason::kSubsumed);
    AbandonRecording();
  }
  CancelAlignment(checkpoint);
}

void UnalignedBarrierHandler::OnEndOfData(size_t input) {
  const InvariantScope checked(*this);
  FL_ASSERT(task_.InputEnded(input), "end of data on an input not marked ended");
  MaybeFinishRecording();
  AlignedBarrierHandler::OnEndOfData(input);
}

void UnalignedBarrierHandler::OnCheckpointAborted(uint64_t checkpoint) {
  const InvariantScope checked(*this);
  if (recording_ && recording_->checkpoint == checkpoint) AbandonRecording();
  AlignedBarrierHandler::OnCheckpointAborted(checkpoint);
}

}  // namespace faultline::engine
