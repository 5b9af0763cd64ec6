// Aligned barrier handling (Flink's SingleCheckpointBarrierHandler in aligned mode): the first
// barrier n starts the alignment of checkpoint n; an input that delivered it is blocked until
// every live input has, then the snapshot is taken and every input released. Barrier n+1 before
// n completed declines n and aligns n+1. Also the aligned phase of an unaligned checkpoint under
// the aligned-checkpoint timeout (UnalignedBarrierHandler derives from this class).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/checkpoint/barrier_handler.h"

namespace faultline::engine {

class AlignedBarrierHandler : public CheckpointBarrierHandler {
 public:
  AlignedBarrierHandler(const BarrierHandlerOptions& options, CheckpointableTask& task);

  void OnBarrier(size_t input, const BarrierInfo& barrier) override;
  void OnCancelMarker(size_t input, uint64_t checkpoint) override;
  void OnEndOfData(size_t input) override;
  void OnCheckpointAborted(uint64_t checkpoint) override;
  bool Aligning() const override { return aligning_.has_value(); }

 protected:
  // Records barrier `barrier`'s arrival on `input` in the trace.
  void RecordReceived(size_t input, const BarrierInfo& barrier);
  // Whether checkpoint `id` was already taken, aborted, declined or passed here: older than
  // the newest checkpoint started (aligned, recorded or cancelled), or that one when it is no
  // longer in progress. Such a barrier is only recorded; it never starts a checkpoint.
  bool Stale(uint64_t id) const;
  bool Stale(const BarrierInfo& barrier) const { return Stale(barrier.checkpoint_id); }
  // Whether checkpoint `id` is in progress here (being aligned; in the unaligned handler, also
  // being recorded).
  virtual bool InProgress(uint64_t id) const { return aligning_ && *aligning_ == id; }
  // Ends the alignment of a checkpoint older than `newer` (barrier or marker `newer` overtook
  // it): declined as subsumed.
  void DeclineOlderAlignment(uint64_t newer);
  // A cancellation marker of `checkpoint`, not stale: ends its alignment (or that of an older
  // one), declines it and marks it started, so its later barriers are stale.
  void CancelAlignment(uint64_t checkpoint);
  // An in-band barrier of an exactly-once checkpoint, in order: aligns it.
  void Align(size_t input, const BarrierInfo& barrier);
  // Ends the alignment (completed, declined or aborted): every input released.
  void ResetAlignment();
  // Checkpoint ids a handler starts (aligning or recording) only grow.
  void NoteStarted(uint64_t checkpoint);
  // The invariants of a handler between calls: a blocked input delivered the barrier of the
  // checkpoint being aligned. Checked at the entry and exit of every call (InvariantScope).
  void CheckInvariants() const;
  class InvariantScope {
   public:
    explicit InvariantScope(const AlignedBarrierHandler& handler) : handler_(handler) {
      handler_.CheckInvariants();
    }
    ~InvariantScope() { handler_.CheckInvariants(); }
    InvariantScope(const InvariantScope&) = delete;
    InvariantScope& operator=(const InvariantScope&) = delete;

   private:
    const AlignedBarrierHandler& handler_;
  };

  const BarrierHandlerOptions options_;
  CheckpointableTask& task_;
  // The checkpoint being aligned, and its first barrier.
  std::optional<uint64_t> aligning_;
  BarrierInfo aligning_barrier_;
  // Per input: it delivered the barrier being aligned (or, in the unaligned handler, recorded).
  std::vector<bool> received_;

 private:
  friend class BarrierHandlerTestPeer;

  void StartAlignment(const BarrierInfo& barrier);
  bool AllLiveInputsHaveTheBarrier() const;
  void CompleteAlignment(const BarrierInfo& barrier);

  Time alignment_started_;     // first barrier of the checkpoint being aligned
  std::vector<bool> blocked_;  // per input: blocked until the alignment ends
  uint64_t last_started_ = 0;
};

}  // namespace faultline::engine
