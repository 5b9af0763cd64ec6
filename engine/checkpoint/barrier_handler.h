// Checkpoint barrier handling on a task's inputs, as Flink's CheckpointBarrierHandler family:
// one handler per task, chosen by the checkpointing mode.
//   AlignedBarrierHandler    exactly-once: an input that delivered barrier n is blocked until
//                            every live input delivered it; then the snapshot is taken.
//   UnalignedBarrierHandler  exactly-once: barrier n is handled on arrival, ahead of the queued
//                            input, and what it overtakes is persisted as channel state. With an
//                            aligned-checkpoint timeout a checkpoint starts aligned (the aligned
//                            handler's protocol) and switches to unaligned when it expires.
//   BarrierTracker           at-least-once: nothing blocks; several checkpoints are tracked at
//                            once and the newest one seen on every live input is taken.
// A handler owns the protocol state (which checkpoint is being aligned or recorded, which input
// delivered which barrier); the task owns its queues, its state and its outputs, and is reached
// only through CheckpointableTask. A handler lives as long as its task and is driven from the
// task's process, one call at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "engine/exec/config.h"
#include "engine/exec/wire.h"
#include "engine/runtime/runtime.h"

namespace faultline::engine {

// Buffers of a task's channels as checkpoint channel state: (channel index, buffer).
using ChannelBuffers = std::vector<std::pair<uint32_t, Buffer>>;

// What a barrier handler asks of its task.
class CheckpointableTask {
 public:
  virtual ~CheckpointableTask() = default;

  // Inputs.
  virtual size_t InputCount() const = 0;
  virtual bool InputEnded(size_t input) const = 0;
  // A blocked input is not processed until UnblockInputs.
  virtual void BlockInput(size_t input) = 0;
  virtual void UnblockInputs() = 0;
  // Gives the credit of a buffer taken off `input` without queueing it back.
  virtual void ReturnCredit(size_t input) = 0;
  // Schedules a processing step (a blocked input may have been released).
  virtual void ScheduleStep() = 0;
  // What is in flight with respect to a snapshot of `checkpoint` taken now: restored channel
  // state not yet replayed, and on every input not `received`, what is queued before its
  // barrier `checkpoint`. An input whose barrier was found queued is marked received.
  virtual ChannelBuffers CollectInFlight(uint64_t checkpoint, std::vector<bool>& received) = 0;

  // Checkpoints.
  // The newest checkpoint taken or aborted here (restored, at first): older barriers are stale.
  virtual uint64_t LastCheckpoint() const = 0;
  // Takes the snapshot of `barrier`'s checkpoint now and forwards the barrier downstream;
  // `alignment`: how long the alignment took. Returns whether the snapshot now waits for its
  // input channel state: an unaligned barrier on a task with inputs, the task not failed. Then
  // exactly one of PersistChannelState and AbandonChannelState follows for it.
  virtual bool TakeSnapshot(const BarrierInfo& barrier, Duration alignment) = 0;
  // The in-flight input of the snapshot waiting for it is complete: persist it and release the
  // snapshot (`alignment`: from the snapshot to the last barrier).
  virtual void PersistChannelState(uint64_t checkpoint, ChannelBuffers in_flight,
                                   Duration alignment) = 0;
  // The snapshot waiting for its channel state will never complete: drop it.
  virtual void AbandonChannelState(uint64_t checkpoint) = 0;
  // Declines `checkpoint` to the coordinator for `reason`, and sends a cancellation marker of it
  // on every output, in band (Flink's abortCheckpointOnBarrier): downstream alignment of it
  // ends at the marker. Called at most once per checkpoint by a handler.
  virtual void Decline(uint64_t checkpoint, DeclineReason reason) = 0;

  // Time, timers and the trace.
  virtual Time Now() const = 0;
  // Calls the handler's OnTimeout(checkpoint) after `delay`, unless the task is gone or failed.
  virtual void ScheduleTimeout(Duration delay, uint64_t checkpoint) = 0;
  virtual void RecordEvent(const runtime::EngineEvent& event) = 0;
  // The task's name, the detail of its events.
  virtual std::string_view Name() const = 0;
};

struct BarrierHandlerOptions {
  // Unaligned mode only: Flink's aligned-checkpoint timeout (CheckpointConfig::aligned_timeout).
  Duration aligned_timeout = Duration::Zero();
  // Teaching switch no-alignment: exactly-once modes do not block inputs while aligning.
  bool no_alignment = false;
};

class CheckpointBarrierHandler {
 public:
  virtual ~CheckpointBarrierHandler() = default;

  // A buffer arrived on `input`, before the task queues it. Returns true when the handler took
  // it (an unaligned barrier overtaking the queue), false when the task queues it as usual; an
  // error when it is an undecodable barrier.
  virtual Result<bool> OnArrival(size_t input, const Buffer& buffer) {
    (void)input;
    (void)buffer;
    return false;
  }
  // Barrier `barrier` was taken off `input`'s queue, in order.
  virtual void OnBarrier(size_t input, const BarrierInfo& barrier) = 0;
  // A cancellation marker of `checkpoint` was taken off `input`'s queue, in order: an upstream
  // task declined it (Flink's CancelCheckpointMarker). Unless the checkpoint is already taken,
  // aborted or cancelled here, the handler stops aligning (or recording, or tracking) it, and
  // declines it (which forwards the marker); later barriers of it are stale.
  virtual void OnCancelMarker(size_t input, uint64_t checkpoint) = 0;
  // `input` delivered its end of data (the task marked it ended).
  virtual void OnEndOfData(size_t input) = 0;
  // The coordinator aborted `checkpoint`.
  virtual void OnCheckpointAborted(uint64_t checkpoint) = 0;
  // A timer of ScheduleTimeout fired.
  virtual void OnTimeout(uint64_t checkpoint) { (void)checkpoint; }
  // Whether a checkpoint is being aligned or tracked (its processed bytes are counted).
  virtual bool Aligning() const = 0;
  // Whether the channel state of a checkpoint newer than `checkpoint` is being recorded.
  virtual bool RecordingNewerThan(uint64_t checkpoint) const {
    (void)checkpoint;
    return false;
  }
};

// The handler for `mode`, over `task` (which must outlive it).
std::unique_ptr<CheckpointBarrierHandler> NewBarrierHandler(CheckpointMode mode,
                                                            const BarrierHandlerOptions& options,
                                                            CheckpointableTask& task);

}  // namespace faultline::engine
