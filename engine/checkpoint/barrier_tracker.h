// At-least-once barrier handling, as Flink's CheckpointBarrierTracker: nothing blocks, and
// several checkpoints may be in flight at once; a checkpoint is taken when its barrier has
// arrived on every live input, and older ones still incomplete then are dropped (the coordinator
// subsumes them). Declining n whenever n+1 shows up first would livelock a job with one slow
// input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>

#include "engine/checkpoint/barrier_handler.h"

namespace faultline::engine {

class BarrierTracker final : public CheckpointBarrierHandler {
 public:
  // At most this many checkpoints are tracked; the oldest incomplete one gives way.
  static constexpr size_t kMaxPending = 16;

  explicit BarrierTracker(CheckpointableTask& task);

  void OnBarrier(size_t input, const BarrierInfo& barrier) override;
  void OnCancelMarker(size_t input, uint64_t checkpoint) override;
  void OnEndOfData(size_t input) override;
  void OnCheckpointAborted(uint64_t checkpoint) override;
  bool Aligning() const override { return !pending_.empty(); }

 private:
  struct Pending {
    BarrierInfo barrier;
    Time first_barrier;
    std::set<size_t> inputs;  // that delivered its barrier
  };

  // Takes the newest checkpoint whose barrier arrived on every live input.
  void MaybeComplete();

  CheckpointableTask& task_;
  const size_t input_count_;
  std::map<uint64_t, Pending> pending_;
  uint64_t last_taken_ = 0;
  // The newest checkpoint cancelled (by a marker) or declined here: its barriers and older
  // ones are stale.
  uint64_t last_cancelled_ = 0;
};

}  // namespace faultline::engine
