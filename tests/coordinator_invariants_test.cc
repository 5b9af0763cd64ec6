// The checkpoint coordinator's invariants (engine/checkpoint/coordinator.h), each broken on a
// real run through the test seam CoordinatorTestPeer, at a moment the trace names: the run must
// stop at the assertion that guards it. A run that nothing breaks finishes (the control case).
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "engine/checkpoint/coordinator.h"
#include "engine/exec/events.h"
#include "engine/exec/job_manager.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline::engine {

// Breaks the coordinator's state the way a protocol bug would.
class CoordinatorTestPeer {
 public:
  explicit CoordinatorTestPeer(CheckpointCoordinator& c) : c_(c) {}

  // The next checkpoint takes id 1 again.
  void RewindIdCounter() { c_.next_checkpoint_id_ = 1; }
  // Checkpoint `id` forgets one task's acknowledgement.
  void DropAnAck(uint64_t id) {
    auto& acks = c_.pending_.at(id).acks;
    acks.erase(acks.begin());
  }
  // The coordinator believes a newer checkpoint completed than did.
  void InflateLatestCompleted(uint64_t id) { c_.latest_completed_ = id; }
  // The coordinator believes the HA pointer already names a newer checkpoint.
  void InflateLastPointerMove(uint64_t id) { c_.last_pointer_move_ = id; }
  // An acknowledgement of pending checkpoint `id` from a task that is not in the plan.
  void AckFromAStranger(uint64_t id) {
    const auto stranger = static_cast<uint32_t>(c_.setup_->plan.tasks.size());
    TaskSnapshot snapshot;
    snapshot.task = stranger;
    snapshot.checkpoint_id = id;
    ControlMessage ack;
    ack.type = ControlType::kAck;
    ack.task = stranger;
    ack.checkpoint_id = id;
    ack.payload = EncodeTaskSnapshot(snapshot);
    c_.OnAck(ack);
  }
  // More discarded checkpoints than the bound, as if nothing ever pruned them.
  void OverfillDiscarded() {
    for (uint64_t id = 1000; c_.discarded_.size() <= CheckpointCoordinator::kMaxDiscarded; ++id) {
      c_.discarded_[id] = {0};
    }
  }

 private:
  CheckpointCoordinator& c_;
};

}  // namespace faultline::engine

namespace faultline {
namespace {

using engine::CoordinatorTestPeer;
using engine::EngineEvent;

// Calls `act` on the JobManager's coordinator when the JobManager records `event` for
// checkpoint `checkpoint` (the observer runs inside the recording, before the coordinator goes
// on).
class BreakAt : public sim::TraceObserver {
 public:
  BreakAt(sim::JobWorld* jw, EngineEvent event, uint64_t checkpoint,
          std::function<void(CoordinatorTestPeer&)> act)
      : jw_(jw), event_(event), checkpoint_(checkpoint), act_(std::move(act)) {}
  void OnRecord(const sim::TraceRecord& r) override {
    if (done_ || r.kind != sim::TraceKind::kEngine || r.node != 0 ||
        r.args[0] != engine::Ev(event_) || static_cast<uint64_t>(r.args[1]) != checkpoint_) {
      return;
    }
    done_ = true;
    CoordinatorTestPeer peer(jw_->job_manager()->coordinator());
    act_(peer);
  }

 private:
  sim::JobWorld* jw_;
  EngineEvent event_;
  uint64_t checkpoint_;
  std::function<void(CoordinatorTestPeer&)> act_;
  bool done_ = false;
};

// Runs the keyed example job, breaking the coordinator as `act` says when `event` of
// `checkpoint` is recorded; returns the job's status.
engine::JobStatus RunBreaking(EngineEvent event, uint64_t checkpoint,
                              std::function<void(CoordinatorTestPeer&)> act) {
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(200);
  auto jw =
      sim::JobWorld::Create(testing_support::KeyedJob({.name = "invariants"}), config, {}).value();
  testing_support::FillSource(*jw, 4, 3000);
  BreakAt breaker(jw.get(), event, checkpoint, std::move(act));
  jw->world().trace().AddObserver(&breaker);
  jw->Start();
  const engine::JobStatus status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(60));
  jw->world().trace().RemoveObserver(&breaker);
  return status;
}

TEST(CoordinatorInvariantsTest, AnUnbrokenRunFinishes) {
  // The control case: the peer's observer alone changes nothing.
  EXPECT_EQ(RunBreaking(EngineEvent::kTriggered, 2, [](CoordinatorTestPeer&) {}),
            engine::JobStatus::kFinished);
}

TEST(CoordinatorInvariantsDeathTest, CheckpointIdsOnlyGrow) {
  EXPECT_DEATH(RunBreaking(EngineEvent::kTriggered, 2,
                           [](CoordinatorTestPeer& peer) { peer.RewindIdCounter(); }),
               "checkpoint ids only grow");
}

TEST(CoordinatorInvariantsDeathTest, CompletionNeverPrecedesEveryAcknowledgement) {
  EXPECT_DEATH(RunBreaking(EngineEvent::kAllAcknowledged, 2,
                           [](CoordinatorTestPeer& peer) { peer.DropAnAck(2); }),
               "completion never precedes every acknowledgement");
}

TEST(CoordinatorInvariantsDeathTest, TheLatestCompletedCheckpointNeverGoesDown) {
  // Checkpoint 2's pointer move lands while the coordinator believes 50 completed.
  EXPECT_DEATH(RunBreaking(EngineEvent::kMetadataWritten, 2,
                           [](CoordinatorTestPeer& peer) { peer.InflateLatestCompleted(50); }),
               "the latest completed checkpoint never goes down");
}

TEST(CoordinatorInvariantsDeathTest, TheHaPointerMovesInOrder) {
  // Checkpoint 2's pointer move would follow a move to 50.
  EXPECT_DEATH(RunBreaking(EngineEvent::kMetadataWritten, 2,
                           [](CoordinatorTestPeer& peer) { peer.InflateLastPointerMove(50); }),
               "the HA pointer moves in order");
}

TEST(CoordinatorInvariantsDeathTest, AcknowledgementsComeFromTasksOfThePlan) {
  EXPECT_DEATH(RunBreaking(EngineEvent::kTriggered, 2,
                           [](CoordinatorTestPeer& peer) { peer.AckFromAStranger(2); }),
               "an acknowledgement comes from a task of the plan");
}

TEST(CoordinatorInvariantsDeathTest, TheDiscardedSetIsBounded) {
  // The next trigger checks the bounds.
  EXPECT_DEATH(RunBreaking(EngineEvent::kTriggered, 2,
                           [](CoordinatorTestPeer& peer) { peer.OverfillDiscarded(); }),
               "discarded checkpoints unbounded");
}

}  // namespace
}  // namespace faultline
