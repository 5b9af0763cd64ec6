// The library's final-checkpoint scenarios hit the window they are about, as their trace shows:
// the fault fell after the HA pointer moved to the final checkpoint (its completion) and before
// the sinks committed its transactions; and the run passes because the restored job committed
// them (a failover, FLIP-147), not because the fault missed. On an engine that sets the job
// FINISHED at the final checkpoint's completion both runs lose the tail of the output.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/exec/events.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "simulator/trace.h"

namespace faultline {
namespace {

using engine::EngineEvent;

// Watches the trace: final checkpoints, their completion, the output store's pre-commits and
// commits, and the state of all of them when the first fault fires.
class FinalWindow : public sim::TraceObserver {
 public:
  void OnRecord(const sim::TraceRecord& r) override {
    if (r.kind == sim::TraceKind::kServiceReply &&
        r.args[0] == static_cast<int64_t>(sim::Service::kOutputStore) && r.args[3] == 0) {
      const auto op = static_cast<sim::ServiceOp>(r.args[1]);
      if (op == sim::ServiceOp::kPreCommit) pre_committed_.insert(r.detail);
      if (op == sim::ServiceOp::kCommit) committed_.insert(r.detail);
      return;
    }
    if (r.kind == sim::TraceKind::kFaultFired) {
      if (!fault_at) OnFault(r.time);
      return;
    }
    std::optional<sim::EngineEventView> e = sim::EngineEventOf(r);
    if (!e) return;
    if (e->event == EngineEvent::kTriggered && *e->args.final == 1) {
      finals_.insert(static_cast<uint64_t>(*e->args.checkpoint));
    } else if (e->event == EngineEvent::kPointerMoved &&
               finals_.count(static_cast<uint64_t>(*e->args.checkpoint))) {
      final_completed_ = {static_cast<uint64_t>(*e->args.checkpoint), r.time};
    } else if (e->event == EngineEvent::kJobFinished) {
      job_finished_ = true;
    } else if (e->event == EngineEvent::kDeployed && fault_at) {
      restored_after_fault.push_back(static_cast<uint64_t>(*e->args.restored_checkpoint));
    }
  }
  // Transactions pre-committed when the fault fired and committed since.
  std::vector<std::string> CommittedSince() const {
    std::vector<std::string> out;
    for (const std::string& txn : pending_at_fault) {
      if (committed_.count(txn)) out.push_back(txn);
    }
    return out;
  }

  std::optional<Time> fault_at;
  std::optional<std::pair<uint64_t, Time>> completed_at_fault;  // the final checkpoint, when
  bool finished_at_fault = false;
  std::vector<std::string> pending_at_fault;  // pre-committed, not committed
  std::vector<uint64_t> restored_after_fault;

 private:
  void OnFault(Time at) {
    fault_at = at;
    completed_at_fault = final_completed_;
    finished_at_fault = job_finished_;
    for (const std::string& txn : pre_committed_) {
      if (!committed_.count(txn)) pending_at_fault.push_back(txn);
    }
  }

  std::set<uint64_t> finals_;
  std::optional<std::pair<uint64_t, Time>> final_completed_;
  bool job_finished_ = false;
  std::set<std::string> pre_committed_, committed_;
};

void ExpectFaultInTheFinalWindow(const std::string& name) {
  auto scenario = scenarios::LoadScenarioFile(std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/" +
                                              name + ".textproto");
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  FinalWindow window;
  scenarios::RunOptions options;
  options.trace_observer = &window;
  auto report = scenarios::RunScenario(*scenario, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();

  // The window: after the HA pointer moved to a final checkpoint...
  ASSERT_TRUE(window.fault_at.has_value()) << "the fault never fired";
  ASSERT_TRUE(window.completed_at_fault.has_value())
      << "the fault fell before any final checkpoint completed";
  const auto [final_id, completed] = *window.completed_at_fault;
  EXPECT_GE(*window.fault_at, completed);
  // ... before its sinks committed: transactions still pre-committed only, the job not finished.
  EXPECT_FALSE(window.pending_at_fault.empty()) << "every sink had committed: the fault is late";
  EXPECT_FALSE(window.finished_at_fault);

  // The job recovered from that final checkpoint, the restored sinks committed every transaction
  // the fault left pending, and exactly-once held.
  EXPECT_FALSE(window.restored_after_fault.empty()) << "no failover";
  for (uint64_t restored : window.restored_after_fault) EXPECT_EQ(restored, final_id);
  EXPECT_EQ(window.CommittedSince(), window.pending_at_fault);
  EXPECT_EQ(report->status, engine::JobStatus::kFinished);
  EXPECT_EQ(report->outcome, scenarios::RunReport::Outcome::kPass)
      << scenarios::FormatReport(*report);
  EXPECT_TRUE(report->as_expected());
}

TEST(FinalCheckpointWindowTest, TaskManagerCrashAfterTheFinalCheckpointCompleted) {
  ExpectFaultInTheFinalWindow("crash_after_final_checkpoint");
}

TEST(FinalCheckpointWindowTest, FinalNotificationLost) {
  ExpectFaultInTheFinalWindow("lost_final_notification");
}

// The observer only observes: the run's trace hash is the same with it.
TEST(FinalCheckpointWindowTest, TheObserverLeavesTheRunAlone) {
  auto scenario = scenarios::LoadScenarioFile(std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) +
                                              "/crash_after_final_checkpoint.textproto");
  ASSERT_TRUE(scenario.ok());
  FinalWindow window;
  scenarios::RunOptions watched;
  watched.trace_observer = &window;
  auto with = scenarios::RunScenario(*scenario, watched);
  auto without = scenarios::RunScenario(*scenario, {});
  ASSERT_TRUE(with.ok() && without.ok());
  EXPECT_EQ(with->trace_hash, without->trace_hash);
}

}  // namespace
}  // namespace faultline
