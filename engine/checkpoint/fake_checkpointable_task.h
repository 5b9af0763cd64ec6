// A CheckpointableTask for tests of the barrier handlers: it logs every call in order, as a
// short line ("block 0", "snapshot 3 unaligned", "event aligned 3 0"), and answers from plain
// fields the test sets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/checkpoint/barrier_handler.h"
#include "engine/exec/events.h"

namespace faultline::engine {

class FakeCheckpointableTask final : public CheckpointableTask {
 public:
  explicit FakeCheckpointableTask(size_t inputs) : ended(inputs, false) {}

  size_t InputCount() const override { return ended.size(); }
  bool InputEnded(size_t input) const override { return ended.at(input); }
  void BlockInput(size_t input) override { Log("block " + std::to_string(input)); }
  void UnblockInputs() override { Log("unblock"); }
  void ReturnCredit(size_t input) override { Log("credit " + std::to_string(input)); }
  void ScheduleStep() override { Log("step"); }
  ChannelBuffers CollectInFlight(uint64_t checkpoint, std::vector<bool>& received) override {
    (void)received;
    Log("collect " + std::to_string(checkpoint));
    return {};
  }
  uint64_t LastCheckpoint() const override { return last_checkpoint; }
  bool TakeSnapshot(const BarrierInfo& barrier, Duration alignment) override {
    (void)alignment;
    Log("snapshot " + std::to_string(barrier.checkpoint_id) +
        (barrier.unaligned ? " unaligned" : " aligned"));
    if (snapshots_advance_last) last_checkpoint = barrier.checkpoint_id;
    return barrier.unaligned && !ended.empty();
  }
  void PersistChannelState(uint64_t checkpoint, ChannelBuffers in_flight,
                           Duration alignment) override {
    (void)alignment;
    Log("persist " + std::to_string(checkpoint) + " buffers " + std::to_string(in_flight.size()));
  }
  void AbandonChannelState(uint64_t checkpoint) override {
    Log("abandon " + std::to_string(checkpoint));
  }
  void Decline(uint64_t checkpoint, DeclineReason reason) override {
    Log("decline " + std::to_string(checkpoint) + " " + std::string(DeclineReasonName(reason)));
  }
  Time Now() const override { return now; }
  void ScheduleTimeout(Duration delay, uint64_t checkpoint) override {
    Log("timeout " + std::to_string(checkpoint) + " after " + delay.ToString());
  }
  void RecordEvent(const runtime::EngineEvent& event) override {
    Log("event " + std::string(EngineEventName(event.kind)) + " " + std::to_string(event.args[0]) +
        " " + std::to_string(event.args[1]));
  }
  std::string_view Name() const override { return "task"; }

  std::vector<bool> ended;
  uint64_t last_checkpoint = 0;
  // A test seam: false makes the task forget the checkpoints it took (its stale check then
  // lets an old barrier through to the handler).
  bool snapshots_advance_last = true;
  Time now;
  std::vector<std::string> log;

 private:
  void Log(std::string line) { log.push_back(std::move(line)); }
};

}  // namespace faultline::engine
