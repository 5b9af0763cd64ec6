// Restored two-phase-commit sinks, asserted from the trace of two library scenarios. That each
// passes, judged, is library_scenarios_test's part.
// - slow_recovery_commit.textproto: after a JobManager failover the restored sinks commit the
//   transactions the restored checkpoint pre-committed, the output store answers them more than
//   a checkpoint timeout late, and still no checkpoint waits behind them: each sink's restore
//   finishes only once its recovery commits are applied, and no checkpoint is triggered before
//   every restore finished (Flink commits recovered transactions in initializeState).
// - commit_queued_at_failure.textproto: an earlier completed checkpoint's transaction whose
//   commit the failed attempt never sent is still in the restored checkpoint's sink state, and
//   the restored sink commits it.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "checkers/recorder.h"
#include "engine/exec/events.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

using checkers::ServiceCall;
using engine::EngineEvent;
using testing_support::LibraryRun;

constexpr Duration kCheckpointTimeout = Duration::Seconds(10);

// "out#2/attempt-1/txn-2" -> "sum+out#2" (the task whose chain ends in sink subtask out#2).
std::string SinkTask(const std::string& txn) {
  return "sum+" + txn.substr(0, txn.find('/'));
}

TEST(SinkRecoveryTest, RestoreFinishesAfterSlowRecoveryCommitsAndNoCheckpointWaitsBehindThem) {
  std::unique_ptr<LibraryRun> run =
      testing_support::RunLibrary(FAULTLINE_SCENARIO_LIBRARY_DIR, "slow_recovery_commit.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::Recording& rec = run->recorder->recording();

  std::map<std::string, Time> restore_started;   // sink task -> its restore's start
  std::map<std::string, Time> restore_finished;  // sink task -> its restore's end
  Time failover_deployed;
  bool failed_over = false;
  for (const checkers::EngineEventRecord& e : rec.events) {
    if (e.event == EngineEvent::kDeployed && e.args.restored_checkpoint.value_or(0) == 3) {
      failover_deployed = e.time;
      failed_over = true;
    }
    if (e.detail.find("+out#") == std::string::npos) continue;
    if (e.event == EngineEvent::kRestoreStarted) restore_started[e.detail] = e.time;
    if (e.event == EngineEvent::kRestoreFinished) restore_finished[e.detail] = e.time;
  }
  ASSERT_TRUE(failed_over) << "no deployment restored checkpoint 3";
  ASSERT_EQ(restore_finished.size(), 4u) << "every sink subtask restores once";

  // Recovery commits: a restored attempt commits a transaction the first attempt pre-committed.
  std::map<std::string, Time> last_recovery_commit;  // sink task -> when its last one applied
  for (const ServiceCall& c : rec.calls) {
    if (c.op != sim::ServiceOp::kCommit || c.attempt <= 1) continue;
    if (c.target.find("/attempt-1/") == std::string::npos) continue;
    ASSERT_TRUE(c.ok()) << c.target;
    Time& last = last_recovery_commit[SinkTask(c.target)];
    last = std::max(last, *c.applied);
  }
  ASSERT_EQ(last_recovery_commit.size(), 4u) << "every restored sink commits a recovered txn";
  Time all_restored;
  for (const auto& [task, applied] : last_recovery_commit) {
    ASSERT_TRUE(restore_started.contains(task) && restore_finished.contains(task)) << task;
    EXPECT_GT(applied - restore_started[task], kCheckpointTimeout)
        << task << ": the recovery took less than a checkpoint timeout; the run shows nothing";
    EXPECT_GE(restore_finished[task], applied)
        << task << ": its restore finished before its recovery commits were applied";
    all_restored = std::max(all_restored, restore_finished[task]);
  }
  for (const checkers::EngineEventRecord& e : rec.events) {
    if (e.event == EngineEvent::kTriggered) {
      EXPECT_FALSE(e.time > failover_deployed && e.time < all_restored)
          << "checkpoint " << e.args.checkpoint.value_or(0)
          << " triggered while restored sinks were still committing";
    }
    EXPECT_NE(e.event, EngineEvent::kCheckpointAborted)
        << "checkpoint " << e.args.checkpoint.value_or(0) << " aborted: " << e.detail;
  }
}

TEST(SinkRecoveryTest, ATransactionWhoseCommitWasOnlyQueuedIsRestoredAndCommitted) {
  std::unique_ptr<LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "commit_queued_at_failure.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::Recording& rec = run->recorder->recording();
  uint64_t restored = 0;
  for (const checkers::EngineEventRecord& e : rec.events) {
    if (e.event == EngineEvent::kDeployed && e.args.restored_checkpoint.value_or(0) > 0) {
      ASSERT_EQ(restored, 0u) << "one failover expected";
      restored = static_cast<uint64_t>(*e.args.restored_checkpoint);
    }
  }
  ASSERT_EQ(restored, 12u);
  const checkers::CompletionRecord* completion = nullptr;
  for (const checkers::CompletionRecord& c : rec.completions) {
    if (c.checkpoint == restored) completion = &c;
  }
  ASSERT_NE(completion, nullptr);
  // Transactions of earlier completed checkpoints in the restored checkpoint's sink state: their
  // commits were queued, not yet done, when the sink pre-committed for it. Each is committed
  // exactly once: by the failed attempt if its commit still ran, else by the restored sink.
  size_t carried = 0;
  size_t committed_on_recovery = 0;
  for (const engine::PendingTransaction& p : completion->pending) {
    if (p.checkpoint_id >= restored) continue;
    ++carried;
    size_t first_attempt_commits = 0;
    size_t recovery_commits = 0;
    for (const ServiceCall& c : rec.calls) {
      if (c.op != sim::ServiceOp::kCommit || c.target != p.txn || !c.ok()) continue;
      ++(c.attempt == 1 ? first_attempt_commits : recovery_commits);
    }
    EXPECT_EQ(first_attempt_commits + recovery_commits, 1u) << p.txn;
    committed_on_recovery += recovery_commits;
  }
  EXPECT_GT(carried, 0u) << "checkpoint " << restored
                         << "'s sink state names no earlier checkpoint's transaction";
  EXPECT_GT(committed_on_recovery, 0u)
      << "every carried transaction was committed before the failure; the run shows nothing";
}

}  // namespace
}  // namespace faultline
