// TXN attributes an output-store call to the attempt that made it (the writer epoch the call
// carries, read by the recorder through OutputStoreSim::EpochOfRequest), not to the newest
// attempt deployed when it was requested. A zombie of attempt 1 committing after attempt 2 was
// deployed and started writing is then seen as attempt 1's, and TXN reports it; attributed to
// the newest attempt (as before), the commit looked like attempt 2's own and TXN missed it.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "checkers/checker.h"
#include "checkers/order_log.h"
#include "checkers/recorder.h"
#include "faults/crash_when.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"
#include "tests/support/recorded_crash_run.h"

namespace faultline {
namespace {

TEST(TxnAttributionTest, AZombiesCommitAfterItsSuccessorsDeploymentIsTheZombies) {
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(500);
  config.switches.no_fencing = true;  // nothing refuses the zombie's commit
  const auto crashed = testing_support::RunKeyedJobCrashingAtAck3("zombie", config);
  ASSERT_EQ(crashed->status, engine::JobStatus::kFinished);
  ASSERT_TRUE(crashed->crashed);
  sim::JobWorld* jw = crashed->jw.get();
  checkers::RunRecorder& recorder = *crashed->recorder;
  checkers::OrderLog& order = crashed->order;
  ASSERT_GE(recorder.recording().deployments.size(), 2u);
  const uint64_t newest = recorder.recording().deployments.back().attempt;

  // A transaction attempt 1 committed on a TaskManager that is still up: its sink writer lives
  // on there as a zombie and commits it again, late.
  const checkers::ServiceCall* first = nullptr;
  for (const checkers::ServiceCall& c : recorder.recording().calls) {
    if (c.service == sim::Service::kOutputStore && c.op == sim::ServiceOp::kCommit && c.ok() &&
        c.attempt == 1 && jw->world().IsUp(c.node) && first == nullptr) {
      first = &c;
    }
  }
  ASSERT_NE(first, nullptr);
  const std::string txn = first->target;
  const std::string writer = txn.substr(0, txn.find("/attempt-"));
  jw->world().output_store().Commit(first->node, {writer, 1}, txn, [](Status) {});
  jw->world().RunFor(Duration::Seconds(1));
  jw->world().trace().RemoveObserver(&recorder);

  const checkers::ServiceCall& late = recorder.recording().calls.back();
  ASSERT_EQ(late.target, txn);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late.attempt, 1u) << "the zombie's commit is attempt 1's";
  EXPECT_GT(newest, 1u) << "the newest deployed attempt, which the old attribution named";

  const checkers::RunRecord run = checkers::RecordRun(*jw, recorder, &order).value();
  const checkers::Verdict by_caller = checkers::RunChecker("TXN", run).value();
  // The same run with the late commit attributed the old way, to the newest deployed attempt.
  checkers::RunRecord old_way = run;
  old_way.recording.calls.back().attempt = newest;
  const checkers::Verdict by_newest = checkers::RunChecker("TXN", old_way).value();
  // Both see the transaction published twice; only the caller's attempt also shows the zombie
  // (TXN's last rule: a commit applied after a later attempt of its writer started).
  EXPECT_TRUE(by_caller.violated()) << by_caller.ToString();
  EXPECT_TRUE(by_newest.violated()) << by_newest.ToString();
  EXPECT_EQ(by_caller.further_violations(), by_newest.further_violations() + 1)
      << by_caller.ToString() << "\n"
      << by_newest.ToString();
}

}  // namespace
}  // namespace faultline
