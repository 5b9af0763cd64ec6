// The checkers judge completions from better evidence than the JobManager's word (issue 11):
// a completion is the HA store's write of the pointer (ORACLES.md), even when the JobManager
// died before it learned of it; and a completed checkpoint whose metadata an injected lost write
// destroyed is read as the engine sent it, at completion and when the JobManager restores it from
// the handles it holds. Each library scenario's trace is checked for the
// situation it covers, then its verdict (both were false alarms or INCONCLUSIVE before).
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

#include "engine/exec/events.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "simulator/trace.h"

namespace faultline {
namespace {

// JobManager crashes and restarts, successful HA pointer writes, the checkpoints the engine
// reported completed, and the blob puts an injected fault lost.
class Observed : public sim::TraceObserver {
 public:
  void OnRecord(const sim::TraceRecord& r) override {
    if (r.node == 0 && r.kind == sim::TraceKind::kNodeCrash) crashes.push_back(r.time);
    if (r.node == 0 && r.kind == sim::TraceKind::kNodeRestart) restarts.push_back(r.time);
    if (r.kind == sim::TraceKind::kServiceReply &&
        r.args[0] == static_cast<int64_t>(sim::Service::kHaStore) &&
        r.args[1] == static_cast<int64_t>(sim::ServiceOp::kCompareAndSet) && r.args[3] == 0 &&
        r.detail.ends_with("/latest")) {
      pointer_writes.push_back(r.time);
    }
    if (r.kind == sim::TraceKind::kFaultInjected && (r.args[1] & sim::kEffectLose) != 0) {
      lost.insert(r.detail.substr(r.detail.find(" @ ") + 3));
    }
    std::optional<sim::EngineEventView> e = sim::EngineEventOf(r);
    if (e && e->event == engine::EngineEvent::kPointerMoved) {
      engine_completed.insert(static_cast<uint64_t>(*e->args.checkpoint));
    }
  }
  std::vector<Time> crashes, restarts, pointer_writes;
  std::set<uint64_t> engine_completed;
  std::set<std::string> lost;
};

Result<scenarios::RunReport> RunLibrary(const std::string& name, Observed& observed) {
  FL_ASSIGN_OR_RETURN(scenarios::Scenario scenario,
                      scenarios::LoadScenarioFile(std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) +
                                                  "/" + name + ".textproto"));
  scenarios::RunOptions options;
  options.trace_observer = &observed;
  return scenarios::RunScenario(scenario, options);
}

const checkers::Verdict* VerdictOf(const scenarios::RunReport& report, std::string_view id) {
  for (const checkers::Verdict& v : report.verdicts) {
    if (v.rule() == id) return &v;
  }
  return nullptr;
}

TEST(CompletionEvidenceTest, APointerWriteTheJobManagerNeverLearnedOfCompletesTheCheckpoint) {
  Observed observed;
  auto report = RunLibrary("jm_crash_after_pointer_write", observed);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  // The situation: the HA store moved the pointer while the JobManager was down, and the engine
  // never reported checkpoint 3 completed; the new JobManager restored 3 from the pointer.
  ASSERT_EQ(observed.crashes.size(), 1u);
  ASSERT_EQ(observed.restarts.size(), 1u);
  int written_while_down = 0;
  for (Time t : observed.pointer_writes) {
    if (t > observed.crashes[0] && t < observed.restarts[0]) ++written_while_down;
  }
  EXPECT_EQ(written_while_down, 1);
  EXPECT_FALSE(observed.engine_completed.count(3));
  ASSERT_EQ(report->recoveries.size(), 1u);
  EXPECT_TRUE(report->recoveries[0].has_restored);
  EXPECT_EQ(report->recoveries[0].restored, 3u);
  // 3's transactions were committed after the restore: TXN judges them pre-committed by a
  // completed checkpoint (it failed them while it learned completions from the engine's event).
  const checkers::Verdict* txn = VerdictOf(*report, "TXN");
  ASSERT_NE(txn, nullptr);
  EXPECT_TRUE(txn->passed()) << txn->ToString();
  EXPECT_EQ(report->outcome, scenarios::RunReport::Outcome::kPass)
      << scenarios::FormatReport(*report);
  EXPECT_EQ(report->committed_records, report->source_records);
}

TEST(CompletionEvidenceTest, ALostMetadataWriteIsReadAsTheEngineSentItAtCompletionAndRestore) {
  Observed observed;
  auto report = RunLibrary("lost_metadata_write", observed);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(observed.lost, std::set<std::string>{"checkpoints/chk-3/_metadata"});
  EXPECT_TRUE(observed.engine_completed.count(3));
  // The JobManager, alive, restored 3 from the handles it holds after a TaskManager crash.
  ASSERT_EQ(report->recoveries.size(), 1u);
  EXPECT_TRUE(report->recoveries[0].has_restored);
  EXPECT_EQ(report->recoveries[0].restored, 3u);
  // TXN judged checkpoint 3's transactions (it was INCONCLUSIVE, checkpoint-skipped, before).
  const checkers::Verdict* txn = VerdictOf(*report, "TXN");
  ASSERT_NE(txn, nullptr);
  EXPECT_TRUE(txn->passed()) << txn->ToString();
  const checkers::Verdict* dur = VerdictOf(*report, "DUR");
  ASSERT_NE(dur, nullptr);
  EXPECT_TRUE(dur->passed()) << dur->ToString();
  EXPECT_FALSE(dur->notes().empty()) << "the lost write is noted";
  // DUR checked the restored tasks' blobs against the metadata as sent (it was INCONCLUSIVE,
  // recording-incomplete: "its metadata blob is gone").
  EXPECT_TRUE(dur->judged()) << dur->ToString();
  EXPECT_EQ(report->outcome, scenarios::RunReport::Outcome::kPass)
      << scenarios::FormatReport(*report);
}

}  // namespace
}  // namespace faultline
