// Branches of a GUI session: a fault taken at a moment is a fault-plan entry triggered then, the
// scenario with it run again from zero. The branch follows its parent exactly up to that moment,
// shows the fault at it, and its reproducer (scenario text + command) replays the same trace;
// a teaching switch toggled is a branch with the switch; earlier branches stay.
#include "gui/core/session.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace faultline::gui {
namespace {

std::string Library(const std::string& file) {
  return std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/" + file;
}

TEST(SessionTest, AFaultAtAMomentBranchesThereAndReplays) {
  Result<std::unique_ptr<Session>> opened = Session::Open(Library("happy_aligned.textproto"), 3);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Session& session = **opened;
  ASSERT_EQ(session.size(), 1);
  const Recording& root = *session.branch(0).recording;
  const Time at = root.records[root.records.size() / 2].time;
  Result<int> id =
      session.BranchWithFault(0, at, CrashTaskManagerFault(1, Duration::Millis(500)), "crash");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_EQ(*id, 1);
  const Branch& b = session.branch(1);
  EXPECT_EQ(b.parent, 0);
  EXPECT_EQ(b.at, at);
  // Up to the moment the branch is its parent, record for record.
  const auto before = [at](const std::vector<sim::TraceRecord>& records) {
    std::vector<sim::TraceRecord> out;
    for (const sim::TraceRecord& r : records) {
      if (r.time < at) out.push_back(r);
    }
    return out;
  };
  EXPECT_TRUE(before(b.recording->records) == before(root.records));
  // At the moment: TaskManager 1 crashes.
  const auto crash = std::find_if(b.recording->records.begin(), b.recording->records.end(),
                                  [](const sim::TraceRecord& r) {
                                    return r.kind == sim::TraceKind::kNodeCrash && r.node == 1;
                                  });
  ASSERT_NE(crash, b.recording->records.end());
  EXPECT_EQ(crash->time, at);
  EXPECT_NE(b.recording->report.trace_hash, root.report.trace_hash);
  // The reproducer: the branch's scenario text, run as `faultline run` would run it.
  const std::string reproducer = session.Reproducer(1);
  EXPECT_NE(reproducer.find("faultline run branch.textproto --seed 3"), std::string::npos);
  Result<scenarios::Scenario> again = scenarios::ParseScenario(session.ScenarioText(1), "b");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  Result<scenarios::RunReport> replay =
      scenarios::RunScenario(*again, scenarios::RunOptions{.seed = 3});
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_EQ(replay->trace_hash, b.recording->report.trace_hash);
  // Branch 0 is unchanged; its reproducer is the file's command.
  EXPECT_EQ(&session.branch(0).recording->records, &root.records);
  EXPECT_EQ(session.Reproducer(0),
            "faultline run " + Library("happy_aligned.textproto") + " --seed 3\n");
}

TEST(SessionTest, ATeachingSwitchIsABranchFromZero) {
  Result<std::unique_ptr<Session>> opened =
      Session::Open(Library("crash_during_alignment.textproto"), 1);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Session& session = **opened;
  Result<int> on = session.BranchWithSwitch(0, "offset-after-emit", true);
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  const Branch& b = session.branch(*on);
  EXPECT_EQ(b.switches, std::vector<std::string>{"offset-after-emit"});
  EXPECT_EQ(b.at, Time::Zero());
  EXPECT_NE(session.ReproduceCommand(*on).find("--switch offset-after-emit"), std::string::npos);
  // The switch changes the run (the engine checkpoints the offset after the emission).
  EXPECT_NE(b.recording->report.trace_hash, session.branch(0).recording->report.trace_hash);
  Result<int> off = session.BranchWithSwitch(*on, "offset-after-emit", false);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(session.branch(*off).recording->report.trace_hash,
            session.branch(0).recording->report.trace_hash);
}

TEST(SessionTest, AnInvalidActionIsAnErrorAndAddsNoBranch) {
  Result<std::unique_ptr<Session>> opened = Session::Open(Library("happy_aligned.textproto"), 1);
  ASSERT_TRUE(opened.ok());
  Session& session = **opened;
  Result<int> bad = session.BranchWithFault(0, Time::Zero() + Duration::Millis(100),
                                            CrashTaskManagerFault(99, std::nullopt), "bad");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("task_manager"), std::string::npos)
      << bad.status().ToString();
  EXPECT_EQ(session.size(), 1);
  EXPECT_FALSE(session.BranchWithSwitch(0, "no-such-switch", true).ok());
  EXPECT_EQ(session.size(), 1);
  EXPECT_FALSE(Session::Open("/nonexistent.textproto", 1).ok());
}

}  // namespace
}  // namespace faultline::gui
