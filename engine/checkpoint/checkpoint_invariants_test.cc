// Death tests: each invariant of the checkpoint protocol that the barrier handlers, the snapshot
// lifecycle and the restore guard assert fires when broken through a test seam (a fake task
// that forgets the checkpoints it took, or a peer that reaches into a handler's state).
#include <gtest/gtest.h>

#include "engine/checkpoint/aligned_barrier_handler.h"
#include "engine/checkpoint/barrier_handler.h"
#include "engine/checkpoint/fake_checkpointable_task.h"
#include "engine/checkpoint/restore_guard.h"
#include "engine/checkpoint/snapshot_lifecycle.h"

namespace faultline::engine {

// Reaches into an aligned (or unaligned) handler's state to break what its own calls keep.
class BarrierHandlerTestPeer {
 public:
  static void ForgetBarrier(AlignedBarrierHandler& handler, size_t input) {
    handler.received_[input] = false;
  }
  // Aligns `barrier` past the handler's stale check.
  static void AlignUnchecked(AlignedBarrierHandler& handler, size_t input,
                             const BarrierInfo& barrier) {
    handler.Align(input, barrier);
  }
  static void CompleteAlignment(AlignedBarrierHandler& handler) {
    handler.CompleteAlignment(handler.aligning_barrier_);
  }
};

namespace {

BarrierInfo Barrier(uint64_t id) {
  return BarrierInfo{.checkpoint_id = id};
}

TEST(CheckpointInvariantsDeathTest, AnAlignedHandlerNeverStartsACheckpointItPassed) {
  FakeCheckpointableTask task(2);
  task.snapshots_advance_last = false;  // the seam: the task's stale check lets barrier 1 in
  AlignedBarrierHandler handler({}, task);
  handler.OnBarrier(0, Barrier(2));
  handler.OnBarrier(1, Barrier(2));
  // The handler's own stale check (older than the newest started) stops it...
  handler.OnBarrier(0, Barrier(1));
  EXPECT_FALSE(handler.Aligning());
  // ...and past both checks, the invariant fires.
  EXPECT_DEATH(BarrierHandlerTestPeer::AlignUnchecked(handler, 0, Barrier(1)),
               "started a checkpoint it had passed");
}

TEST(CheckpointInvariantsDeathTest, TheTrackerNeverTakesACheckpointItPassed) {
  FakeCheckpointableTask task(2);
  task.snapshots_advance_last = false;
  auto handler = NewBarrierHandler(CheckpointMode::kAtLeastOnce, {}, task);
  handler->OnBarrier(0, Barrier(2));
  handler->OnBarrier(1, Barrier(2));
  handler->OnBarrier(0, Barrier(1));
  EXPECT_DEATH(handler->OnBarrier(1, Barrier(1)), "took a checkpoint it had passed");
}

TEST(CheckpointInvariantsDeathTest, ABlockedInputHasItsBarrier) {
  FakeCheckpointableTask task(2);
  AlignedBarrierHandler handler({}, task);
  handler.OnBarrier(0, Barrier(1));  // input 0 blocked
  BarrierHandlerTestPeer::ForgetBarrier(handler, 0);
  EXPECT_DEATH(handler.OnBarrier(1, Barrier(1)), "a blocked input without the barrier");
}

TEST(CheckpointInvariantsDeathTest, AlignmentCompletesOnlyWhenEveryLiveInputHasTheBarrier) {
  FakeCheckpointableTask task(3);
  AlignedBarrierHandler handler({}, task);
  handler.OnBarrier(0, Barrier(1));
  task.ended[2] = true;  // an ended input does not count; input 1 still misses the barrier
  EXPECT_DEATH(BarrierHandlerTestPeer::CompleteAlignment(handler),
               "before every live input delivered the barrier");
}

TEST(CheckpointInvariantsDeathTest, ASnapshotIsReleasedOnlyAfterItsCapture) {
  SnapshotLifecycle life;
  life.Hold();
  EXPECT_DEATH((void)life.Drop(), "released before its capture");
}

TEST(CheckpointInvariantsDeathTest, ASnapshotIsAcknowledgedOnlyOnceItsUploadIsDurable) {
  SnapshotLifecycle life;
  life.Hold();
  life.Captured();
  ASSERT_TRUE(life.Drop());
  life.UploadsStarted(2);
  EXPECT_FALSE(life.UploadFinished());
  EXPECT_DEATH(life.Acknowledge(false), "acknowledged before its upload is durable");
  life.Acknowledge(true);  // ack-before-upload: the teaching switch's mistake is allowed
  EXPECT_DEATH(life.Acknowledge(true), "acknowledged twice");
}

TEST(CheckpointInvariantsDeathTest, ASnapshotIsNotUploadedBeforeItsRelease) {
  SnapshotLifecycle life;
  life.Hold();
  life.Captured();
  life.Hold();  // e.g. the sink's pre-commit
  EXPECT_FALSE(life.Drop());
  EXPECT_DEATH(life.UploadsStarted(1), "uploaded before its release");
}

TEST(CheckpointInvariantsDeathTest, RestoreHappensAtMostOnceAndBeforeProcessing) {
  RestoreGuard twice;
  twice.BeginRestore();
  twice.FinishRestore();
  twice.BeginProcessing();
  EXPECT_DEATH(twice.BeginRestore(), "a second restore in one deployment");

  RestoreGuard late;
  late.BeginProcessing();
  EXPECT_DEATH(late.BeginRestore(), "a restore after processing began");

  RestoreGuard early;
  early.BeginRestore();
  EXPECT_DEATH(early.BeginProcessing(), "processing began before the restore finished");
}

TEST(CheckpointInvariants, TheLifecycleOfAnOrdinarySnapshotPassesEveryCheck) {
  SnapshotLifecycle life;
  life.Hold();
  life.Captured();
  life.Hold();
  EXPECT_FALSE(life.Drop());
  EXPECT_TRUE(life.Drop());
  life.UploadsStarted(2);
  EXPECT_FALSE(life.UploadFinished());
  EXPECT_TRUE(life.UploadFinished());
  life.Acknowledge(false);

  RestoreGuard guard;
  guard.BeginRestore();
  guard.FinishRestore();
  guard.BeginProcessing();
  EXPECT_TRUE(guard.processing());
}

}  // namespace
}  // namespace faultline::engine
