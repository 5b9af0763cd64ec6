#include "engine/checkpoint/barrier_handler.h"

#include "base/assert.h"
#include "engine/checkpoint/aligned_barrier_handler.h"
#include "engine/checkpoint/barrier_tracker.h"
#include "engine/checkpoint/unaligned_barrier_handler.h"

namespace faultline::engine {

std::unique_ptr<CheckpointBarrierHandler> NewBarrierHandler(CheckpointMode mode,
                                                            const BarrierHandlerOptions& options,
                                                            CheckpointableTask& task) {
  switch (mode) {
    case CheckpointMode::kAligned:
      FL_ASSERT(options.aligned_timeout == Duration::Zero(),
                "the aligned-checkpoint timeout is for unaligned checkpoints");
      return std::make_unique<AlignedBarrierHandler>(options, task);
    case CheckpointMode::kUnaligned:
      return std::make_unique<UnalignedBarrierHandler>(options, task);
    case CheckpointMode::kAtLeastOnce:
      return std::make_unique<BarrierTracker>(task);
  }
  FL_UNREACHABLE("unknown checkpoint mode");
}

}  // namespace faultline::engine
