// The barrier handlers driven directly, over a fake task that logs every call the handler makes
// back to it: blocking, snapshots, channel state, declines and events, in order.
#include "engine/checkpoint/barrier_handler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/checkpoint/barrier_tracker.h"
#include "engine/checkpoint/fake_checkpointable_task.h"
#include "engine/exec/events.h"

namespace faultline::engine {
namespace {

template <typename... Line>
std::vector<std::string> Lines(Line... lines) {
  return {std::string(lines)...};
}

BarrierInfo Barrier(uint64_t id, bool unaligned = false) {
  return BarrierInfo{.checkpoint_id = id, .unaligned = unaligned};
}

Buffer Encoded(const BarrierInfo& barrier) {
  Buffer out;
  EncodeBarrier(out, barrier);
  return out;
}

Buffer Records() {
  Buffer out;
  BeginRecords(out);
  FinishRecords(out, 0);
  return out;
}

TEST(AlignedBarrierHandler, BlocksEachInputUntilEveryInputDeliveredTheBarrier) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kAligned, {}, task);
  handler->OnBarrier(0, Barrier(1));
  EXPECT_TRUE(handler->Aligning());
  EXPECT_EQ(task.log, Lines("event barrier-received 1 0", "block 0"));
  task.log.clear();
  handler->OnBarrier(1, Barrier(1));
  EXPECT_FALSE(handler->Aligning());
  EXPECT_EQ(task.log, Lines("event barrier-received 1 1", "block 1", "event aligned 1 0", "unblock",
                            "snapshot 1 aligned"));
}

TEST(AlignedBarrierHandler, TheNextBarrierDeclinesTheCheckpointBeingAligned) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kAligned, {}, task);
  handler->OnBarrier(0, Barrier(1));
  task.log.clear();
  handler->OnBarrier(1, Barrier(2));
  EXPECT_EQ(task.log,
            Lines("event barrier-received 2 1", "decline 1 subsumed", "unblock", "block 1"));
  EXPECT_TRUE(handler->Aligning());
}

TEST(AlignedBarrierHandler, AnEndedInputCompletesTheAlignment) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kAligned, {}, task);
  handler->OnBarrier(0, Barrier(3));
  task.log.clear();
  task.ended[1] = true;
  handler->OnEndOfData(1);
  EXPECT_EQ(task.log, Lines("event aligned 3 0", "unblock", "snapshot 3 aligned"));
}

TEST(AlignedBarrierHandler, AnAbortReleasesTheInputsAndAStaleBarrierIsOnlyRecorded) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kAligned, {}, task);
  handler->OnBarrier(0, Barrier(4));
  task.log.clear();
  handler->OnCheckpointAborted(4);
  task.last_checkpoint = 4;
  handler->OnBarrier(1, Barrier(4));
  EXPECT_EQ(task.log, Lines("unblock", "step", "event barrier-received 4 1"));
  EXPECT_FALSE(handler->Aligning());
}

TEST(AlignedBarrierHandler, ACancellationMarkerEndsTheAlignmentAndItsLaterBarriersAreStale) {
  FakeCheckpointableTask task(3);
  auto handler = NewBarrierHandler(CheckpointMode::kAligned, {}, task);
  handler->OnBarrier(0, Barrier(5));
  task.log.clear();
  // Input 1's producer declined 5: the alignment ends at its marker, not at the JobManager's
  // abort; the blocked input is released and the marker goes on (the task's Decline).
  handler->OnCancelMarker(1, 5);
  EXPECT_FALSE(handler->Aligning());
  EXPECT_EQ(task.log, Lines("event cancel-marker-received 5 1", "unblock",
                            "decline 5 cancellation-marker", "step"));
  task.log.clear();
  // Another producer's marker and a late barrier of 5 are stale; 6 aligns as usual.
  handler->OnCancelMarker(2, 5);
  handler->OnBarrier(2, Barrier(5));
  handler->OnBarrier(2, Barrier(6));
  EXPECT_EQ(task.log, Lines("event cancel-marker-received 5 2", "event barrier-received 5 2",
                            "event barrier-received 6 2", "block 2"));
}

TEST(AlignedBarrierHandler, AMarkerOfACheckpointNotYetSeenCancelsItHere) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kAligned, {}, task);
  handler->OnCancelMarker(0, 3);
  handler->OnBarrier(1, Barrier(3));
  EXPECT_FALSE(handler->Aligning());
  EXPECT_EQ(task.log, Lines("event cancel-marker-received 3 0", "decline 3 cancellation-marker",
                            "event barrier-received 3 1"));
}

TEST(AlignedBarrierHandler, ALateBarrierOfASubsumedCheckpointNeverCountsForTheNewerOne) {
  FakeCheckpointableTask task(3);
  auto handler = NewBarrierHandler(CheckpointMode::kAligned, {}, task);
  handler->OnBarrier(0, Barrier(1));
  handler->OnBarrier(1, Barrier(2));  // declines 1, aligns 2
  task.log.clear();
  // Input 2's barrier 1 comes late: stale. It must not stand in for input 2's barrier 2.
  handler->OnBarrier(2, Barrier(1));
  EXPECT_EQ(task.log, Lines("event barrier-received 1 2"));
  EXPECT_TRUE(handler->Aligning());
  task.log.clear();
  handler->OnBarrier(0, Barrier(2));
  handler->OnBarrier(2, Barrier(2));
  EXPECT_EQ(task.log, Lines("event barrier-received 2 0", "block 0", "event barrier-received 2 2",
                            "block 2", "event aligned 2 0", "unblock", "snapshot 2 aligned"));
}

TEST(AlignedBarrierHandler, NoAlignmentSwitchBlocksNothing) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kAligned, {.no_alignment = true}, task);
  handler->OnBarrier(0, Barrier(1));
  handler->OnBarrier(1, Barrier(1));
  EXPECT_EQ(task.log, Lines("event barrier-received 1 0", "event barrier-received 1 1",
                            "event aligned 1 0", "unblock", "snapshot 1 aligned"));
}

TEST(UnalignedBarrierHandler, SnapshotsOnTheFirstBarrierAndRecordsWhatArrivesBeforeTheOthers) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kUnaligned, {}, task);
  Result<bool> taken = handler->OnArrival(0, Encoded(Barrier(1, true)));
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(*taken);
  EXPECT_EQ(task.log, Lines("event barrier-received 1 0", "collect 1", "snapshot 1 unaligned"));
  task.log.clear();
  // Records behind the barrier on input 0 are not in flight; those on input 1 are.
  EXPECT_FALSE(*handler->OnArrival(0, Records()));
  EXPECT_FALSE(*handler->OnArrival(1, Records()));
  EXPECT_TRUE(*handler->OnArrival(1, Encoded(Barrier(1, true))));
  EXPECT_EQ(task.log,
            Lines("event barrier-received 1 1", "event aligned 1 1", "persist 1 buffers 1"));
}

TEST(UnalignedBarrierHandler, TheAlignedCheckpointTimeoutSwitchesToUnaligned) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kUnaligned,
                                   {.aligned_timeout = Duration::Millis(100)}, task);
  EXPECT_FALSE(*handler->OnArrival(0, Encoded(Barrier(1))));  // in band: queued
  handler->OnBarrier(0, Barrier(1));
  EXPECT_EQ(task.log, Lines("event barrier-received 1 0", "timeout 1 after 100ms", "block 0"));
  task.log.clear();
  handler->OnTimeout(1);
  EXPECT_EQ(task.log, Lines("collect 1", "event alignment-timed-out 1 0", "unblock",
                            "snapshot 1 unaligned", "step"));
  task.log.clear();
  // The in-band barrier of input 1 ends its recording on arrival.
  EXPECT_TRUE(*handler->OnArrival(1, Encoded(Barrier(1))));
  EXPECT_EQ(task.log, Lines("credit 1", "event barrier-received 1 1", "event aligned 1 0",
                            "persist 1 buffers 0"));
}

TEST(UnalignedBarrierHandler, AnAbortOrTheNextBarrierAbandonsTheRecording) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kUnaligned, {}, task);
  ASSERT_TRUE(*handler->OnArrival(0, Encoded(Barrier(1, true))));
  EXPECT_TRUE(handler->RecordingNewerThan(0));
  handler->OnCheckpointAborted(1);
  EXPECT_FALSE(handler->RecordingNewerThan(0));
  ASSERT_TRUE(*handler->OnArrival(0, Encoded(Barrier(2, true))));
  task.log.clear();
  ASSERT_TRUE(*handler->OnArrival(1, Encoded(Barrier(3, true))));
  EXPECT_EQ(task.log, Lines("event barrier-received 3 1", "decline 2 subsumed", "abandon 2",
                            "collect 3", "snapshot 3 unaligned"));
}

TEST(UnalignedBarrierHandler, ALateUnalignedBarrierOlderThanTheAlignedOneIsStale) {
  // The race of the aligned-checkpoint timeout: 1 was declined when barrier 2 overtook it in
  // the aligned phase; input 2's upstream timed out on 1 and sends it unaligned, late. It is
  // stale (it used to trip "ids only grow" by starting checkpoint 1 after 2).
  FakeCheckpointableTask task(3);
  auto handler = NewBarrierHandler(CheckpointMode::kUnaligned,
                                   {.aligned_timeout = Duration::Millis(100)}, task);
  handler->OnBarrier(0, Barrier(1));
  handler->OnBarrier(1, Barrier(2));
  task.log.clear();
  Result<bool> taken = handler->OnArrival(2, Encoded(Barrier(1, true)));
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(*taken);
  EXPECT_EQ(task.log, Lines("event barrier-received 1 2"));
  EXPECT_TRUE(handler->Aligning());
  EXPECT_FALSE(handler->RecordingNewerThan(0));
}

TEST(UnalignedBarrierHandler, ACancellationMarkerAbortsTheRecording) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kUnaligned, {}, task);
  ASSERT_TRUE(*handler->OnArrival(0, Encoded(Barrier(1, true))));
  task.log.clear();
  handler->OnCancelMarker(1, 1);
  EXPECT_FALSE(handler->RecordingNewerThan(0));
  EXPECT_EQ(task.log, Lines("event cancel-marker-received 1 1", "abandon 1",
                            "decline 1 cancellation-marker"));
  task.log.clear();
  // The next checkpoint starts afresh: input 0's barrier of 1 says nothing about 2.
  ASSERT_TRUE(*handler->OnArrival(1, Encoded(Barrier(2, true))));
  EXPECT_TRUE(handler->RecordingNewerThan(1));
  EXPECT_EQ(task.log, Lines("event barrier-received 2 1", "collect 2", "snapshot 2 unaligned"));
}

TEST(UnalignedBarrierHandler, AnUndecodableBarrierIsAnError) {
  FakeCheckpointableTask task(1);
  auto handler = NewBarrierHandler(CheckpointMode::kUnaligned, {}, task);
  Buffer cut = Encoded(Barrier(1, true));
  cut.resize(2);
  EXPECT_FALSE(handler->OnArrival(0, cut).ok());
}

TEST(BarrierTracker, TracksSeveralCheckpointsAndTakesTheNewestComplete) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kAtLeastOnce, {}, task);
  handler->OnBarrier(0, Barrier(1));
  handler->OnBarrier(0, Barrier(2));
  EXPECT_TRUE(handler->Aligning());
  handler->OnBarrier(1, Barrier(2));  // 1 is subsumed by 2
  EXPECT_FALSE(handler->Aligning());
  handler->OnBarrier(1, Barrier(1));  // stale now
  EXPECT_EQ(task.log, Lines("event barrier-received 1 0", "event barrier-received 2 0",
                            "event barrier-received 2 1", "event aligned 2 0", "snapshot 2 aligned",
                            "event barrier-received 1 1"));
}

TEST(BarrierTracker, ACancellationMarkerForgetsTheCheckpoint) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kAtLeastOnce, {}, task);
  handler->OnBarrier(0, Barrier(1));
  handler->OnBarrier(0, Barrier(2));
  handler->OnCancelMarker(1, 1);
  handler->OnCancelMarker(1, 1);      // once only
  handler->OnBarrier(1, Barrier(1));  // stale now
  EXPECT_TRUE(handler->Aligning());   // 2 is still tracked
  handler->OnBarrier(1, Barrier(2));
  EXPECT_EQ(task.log,
            Lines("event barrier-received 1 0", "event barrier-received 2 0",
                  "event cancel-marker-received 1 1", "decline 1 cancellation-marker",
                  "event cancel-marker-received 1 1", "event barrier-received 1 1",
                  "event barrier-received 2 1", "event aligned 2 0", "snapshot 2 aligned"));
}

TEST(BarrierTracker, TheOldestIncompleteCheckpointGivesWayPastTheBound) {
  FakeCheckpointableTask task(2);
  auto handler = NewBarrierHandler(CheckpointMode::kAtLeastOnce, {}, task);
  for (uint64_t id = 1; id <= BarrierTracker::kMaxPending + 1; ++id) {
    handler->OnBarrier(0, Barrier(id));
  }
  EXPECT_EQ(task.log.back(), "decline 1 subsumed");
}

}  // namespace
}  // namespace faultline::engine
