// Branches of a GUI session: a fault taken at a moment is a fault-plan entry triggered then, the
// scenario with it run again from zero. The branch follows its parent exactly up to that moment,
// shows the fault at it, and its reproducer (scenario text + command) replays the same trace;
// a teaching switch toggled is a branch with the switch; earlier branches stay.
#include "gui/core/session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/exec/events.h"
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

// The checkers on the run so far: the prefix run is the run, record for record, up to the
// moment (and stops there); before the first checkpoint's metadata is written EO-CUT finds
// nothing, at the end it finds what the whole run's EO-CUT found.
TEST(SessionTest, ChecksTheRunSoFar) {
  Result<std::unique_ptr<Session>> opened =
      Session::Open(Library("switch_no_alignment.textproto"), std::nullopt);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const Session& session = **opened;
  const Recording& whole = *session.branch(0).recording;
  const auto eo_cut = [](const Recording& r) -> const checkers::Verdict* {
    for (const checkers::Verdict& v : r.report.verdicts) {
      if (v.rule() == "EO-CUT") return &v;
    }
    return nullptr;
  };
  ASSERT_NE(eo_cut(whole), nullptr);
  ASSERT_TRUE(eo_cut(whole)->violated());
  // EO-CUT judges every checkpoint whose metadata the engine wrote.
  Time first_completed = Time::Max();
  for (const sim::TraceRecord& r : whole.records) {
    if (sim::IsEngineEvent(r, engine::EngineEvent::kMetadataWritten)) {
      first_completed = std::min(first_completed, r.time);
    }
  }
  ASSERT_NE(first_completed, Time::Max());
  const Time early = first_completed - Duration::Millis(1);
  Result<Recording> before = session.CheckPrefix(0, early);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_NE(eo_cut(*before), nullptr);
  EXPECT_FALSE(eo_cut(*before)->violated())
      << checkers::ToString(*eo_cut(*before)->first()) << " first completed at "
      << first_completed.ToString() << " prefix ended " << before->report.ended.ToString()
      << " records " << before->records.size() << " of " << whole.records.size();
  // Record for record the run, up to the moment.
  size_t n = 0;
  while (n < whole.records.size() && whole.records[n].time <= early) ++n;
  ASSERT_EQ(before->records.size(), n);
  EXPECT_LE(before->report.ended, early);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(sim::FormatTraceRecord(before->records[i]), sim::FormatTraceRecord(whole.records[i]))
        << i;
  }
  Result<Recording> all = session.CheckPrefix(0, whole.records.back().time + Duration::Millis(1));
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(eo_cut(*all)->violated());
  EXPECT_FALSE(session.CheckPrefix(0, Time::Zero()).ok());
  EXPECT_FALSE(session.CheckPrefix(9, early).ok());
}

// A run exported by `faultline run --export DIR` opens as a session: the same scenario, seed and
// switches, so the same trace hash; a manifest naming another hash is opened with a note; a
// broken manifest is an error.
TEST(SessionTest, OpensAnExportedRunToTheSameTrace) {
  const std::string dir = testing::TempDir() + "/faultline_exported_run";
  std::filesystem::remove_all(dir);
  Result<scenarios::Scenario> scenario =
      scenarios::LoadScenarioFile(Library("happy_aligned.textproto"));
  ASSERT_TRUE(scenario.ok());
  Result<scenarios::RunReport> report = scenarios::RunScenario(
      *scenario, {.seed = 5, .export_dir = dir, .switches = {"no-alignment"}});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_TRUE(std::filesystem::exists(dir + "/run.json"));
  ASSERT_TRUE(std::filesystem::exists(dir + "/scenario.textproto"));
  Result<std::unique_ptr<Session>> opened = Session::OpenExported(dir);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const Session& session = **opened;
  EXPECT_EQ(session.seed(), 5u);
  EXPECT_EQ(session.branch(0).switches, (std::vector<std::string>{"no-alignment"}));
  EXPECT_EQ(session.branch(0).recording->report.trace_hash, report->trace_hash);
  EXPECT_TRUE(session.note().empty()) << session.note();
  // Another hash in the manifest: opened, with a note.
  {
    std::ifstream in(dir + "/run.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = text.find("\"trace_hash\": \"");
    ASSERT_NE(at, std::string::npos);
    text.replace(at + 15, 16, "0123456789abcdef");
    std::ofstream(dir + "/run.json") << text;
  }
  Result<std::unique_ptr<Session>> other = Session::OpenExported(dir);
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->note().find("differs"), std::string::npos);
  std::ofstream(dir + "/run.json") << "{ not json";
  EXPECT_FALSE(Session::OpenExported(dir).ok());
  EXPECT_FALSE(Session::OpenExported(dir + "/nowhere").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace faultline::gui
