// Unaligned barrier handling (Flink's SingleCheckpointBarrierHandler in unaligned mode, with the
// alternating aligned phase): an unaligned barrier n is handled on arrival, ahead of the queued
// input; the first one takes the snapshot at once (the task forwards the barrier ahead of its
// queued output), and until barrier n arrived on every live input, what arrives before it is
// recorded as input channel state. Under the aligned-checkpoint timeout a checkpoint starts with
// in-band barriers and is aligned as AlignedBarrierHandler does; when the timeout passes (or an
// unaligned barrier of it arrives from upstream), it switches to unaligned: what is queued
// before its barriers becomes channel state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/checkpoint/aligned_barrier_handler.h"

namespace faultline::engine {

class UnalignedBarrierHandler final : public AlignedBarrierHandler {
 public:
  using AlignedBarrierHandler::AlignedBarrierHandler;

  Result<bool> OnArrival(size_t input, const Buffer& buffer) override;
  void OnBarrier(size_t input, const BarrierInfo& barrier) override;
  void OnCancelMarker(size_t input, uint64_t checkpoint) override;
  void OnEndOfData(size_t input) override;
  void OnCheckpointAborted(uint64_t checkpoint) override;
  void OnTimeout(uint64_t checkpoint) override;
  bool RecordingNewerThan(uint64_t checkpoint) const override {
    return recording_ && recording_->checkpoint > checkpoint;
  }

 protected:
  bool InProgress(uint64_t id) const override {
    return AlignedBarrierHandler::InProgress(id) || (recording_ && recording_->checkpoint == id);
  }

 private:
  // The checkpoint whose snapshot is taken and whose in-flight input is being recorded.
  struct Recording {
    uint64_t checkpoint = 0;
    ChannelBuffers in_flight;
    Time started;  // when the snapshot was taken
  };

  // Switches the checkpoint being aligned to unaligned.
  void SwitchToUnaligned();
  // An unaligned barrier (or the in-band barrier of the checkpoint being recorded) on arrival.
  void HandleUnalignedBarrier(size_t input, const BarrierInfo& barrier);
  // Takes the snapshot of unaligned `barrier` and starts recording; `received`: the inputs whose
  // barrier already arrived; `in_flight`: what is in flight on the others. Returns false when
  // the task failed.
  bool StartRecording(const BarrierInfo& barrier, std::vector<bool> received,
                      ChannelBuffers in_flight);
  void MaybeFinishRecording();
  void AbandonRecording();

  std::optional<Recording> recording_;
};

}  // namespace faultline::engine
