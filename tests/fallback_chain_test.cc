// REC judges a whole chain of fallbacks (issue 11): lost writes destroy a state blob of each of
// the two newest retained checkpoints, a TaskManager crashes, and the engine falls back twice
// (5 -> 4 -> 3), reporting each step. The library run passes REC (it failed before: REC judged
// a single step, 5 -> 4, and called the restore of 3 a violation); altered after the fact, a
// step no injected fault explains, or a step the engine did not report, still fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "checkers/checker.h"
#include "checkers/degradation.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

using checkers::RunRecord;
using checkers::Verdict;

class FallbackChainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    run_ = testing_support::RunLibrary(FAULTLINE_SCENARIO_LIBRARY_DIR,
                                       "lost_writes_fallback_twice.textproto")
               .release();
    Result<RunRecord> record =
        checkers::RecordRun(*run_->jw, *run_->recorder, &run_->log, {.status = run_->status});
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    record_ = new RunRecord(std::move(*record));
  }
  static void TearDownTestSuite() {
    delete record_;
    delete run_;
  }
  static Verdict Rec(const RunRecord& r) { return *checkers::RunChecker("REC", r); }

  static testing_support::LibraryRun* run_;
  static RunRecord* record_;
};
testing_support::LibraryRun* FallbackChainTest::run_ = nullptr;
RunRecord* FallbackChainTest::record_ = nullptr;

TEST_F(FallbackChainTest, TheEngineFellBackTwiceEachStepDestroyedByALostWrite) {
  const checkers::Recording& rec = record_->recording;
  std::vector<std::pair<uint64_t, uint64_t>> steps;
  for (const checkers::ReportedFallback& f : checkers::ReportedFallbacks(rec)) {
    steps.emplace_back(f.unreadable, f.fallback);
    EXPECT_TRUE(f.destroyed_by_injection) << f.Describe();
  }
  EXPECT_EQ(steps, (std::vector<std::pair<uint64_t, uint64_t>>{{5, 4}, {4, 3}}));
  // An attempt deployed while the HA pointer named 5 read the state blobs of 3.
  bool read_3 = false;
  for (const checkers::BlobRead& read : rec.reads) read_3 |= read.ok() && read.checkpoint == 3;
  EXPECT_TRUE(read_3);
  EXPECT_TRUE(std::any_of(rec.deployments.begin(), rec.deployments.end(),
                          [](const checkers::RestoreRecord& d) { return d.pointer_latest == 5; }));
  const Verdict rec_verdict = Rec(*record_);
  EXPECT_TRUE(rec_verdict.passed()) << rec_verdict.ToString();
  EXPECT_EQ(rec_verdict.notes().size(), 2u) << rec_verdict.ToString();  // 5 and 4, once each
  EXPECT_EQ(run_->status, engine::JobStatus::kFinished);
}

TEST_F(FallbackChainTest, AStepNoInjectedFaultExplainsFails) {
  RunRecord r = *record_;
  std::erase_if(r.recording.faults, [](const checkers::InjectedFault& f) {
    return f.target.starts_with("checkpoints/chk-4/");
  });
  const Verdict v = Rec(r);
  ASSERT_TRUE(v.violated()) << v.ToString();
  EXPECT_EQ(v.first()->what,
            "the engine reported a completed checkpoint unreadable, but no injected fault "
            "destroyed it");
  EXPECT_EQ(v.first()->evidence.checkpoint_id, 4u);
}

TEST_F(FallbackChainTest, AStepTheEngineDidNotReportFails) {
  RunRecord r = *record_;
  std::erase_if(r.recording.events, [](const checkers::EngineEventRecord& e) {
    return e.event == engine::EngineEvent::kCheckpointUnreadable && e.args.checkpoint == 4;
  });
  const Verdict v = Rec(r);
  ASSERT_TRUE(v.violated()) << v.ToString();
  EXPECT_EQ(v.first()->what, "recovery did not restore the latest completed checkpoint");
}

// A fallback must go to the newest retained checkpoint nothing destroyed. Here 4 is intact (its
// lost write removed from the record) and never reported, but the engine stepped from 5 straight
// to 3, as an engine that picks the oldest retained checkpoint would.
TEST_F(FallbackChainTest, AStepPastAReadableRetainedCheckpointFails) {
  RunRecord r = *record_;
  // The pointer retained 3, 4 and 5 when the restore happened.
  bool retained_4 = false;
  for (const checkers::CompletionRecord& c : r.recording.completions) {
    if (c.checkpoint == 5) {
      retained_4 = c.retained == std::vector<uint64_t>{3, 4, 5};
    }
  }
  ASSERT_TRUE(retained_4);
  std::erase_if(r.recording.faults, [](const checkers::InjectedFault& f) {
    return f.target.starts_with("checkpoints/chk-4/");
  });
  std::erase_if(r.recording.events, [](const checkers::EngineEventRecord& e) {
    return e.event == engine::EngineEvent::kCheckpointUnreadable && e.args.checkpoint == 4;
  });
  std::erase_if(r.recording.reads, [](const checkers::BlobRead& read) {
    return read.checkpoint == 4;  // an engine stepping 5 -> 3 never reads 4
  });
  for (checkers::RestoreRecord& d : r.recording.deployments) {
    if (d.checkpoint == 4) d.checkpoint = 3;
  }
  for (checkers::EngineEventRecord& e : r.recording.events) {
    if (e.event == engine::EngineEvent::kCheckpointUnreadable && e.args.checkpoint == 5) {
      e.args.fallback = 3;
    }
  }
  const Verdict v = Rec(r);
  ASSERT_TRUE(v.violated()) << v.ToString();
  EXPECT_EQ(v.first()->what, "recovery fell back past a readable retained checkpoint");
  EXPECT_EQ(v.first()->evidence.checkpoint_id, 4u);

  // With 4 destroyed (its lost write kept), passing over it is right.
  RunRecord destroyed = *record_;
  std::erase_if(destroyed.recording.events, [](const checkers::EngineEventRecord& e) {
    return e.event == engine::EngineEvent::kCheckpointUnreadable && e.args.checkpoint == 4;
  });
  std::erase_if(destroyed.recording.reads,
                [](const checkers::BlobRead& read) { return read.checkpoint == 4; });
  for (checkers::RestoreRecord& d : destroyed.recording.deployments) {
    if (d.checkpoint == 4) d.checkpoint = 3;
  }
  for (checkers::EngineEventRecord& e : destroyed.recording.events) {
    if (e.event == engine::EngineEvent::kCheckpointUnreadable && e.args.checkpoint == 5) {
      e.args.fallback = 3;
    }
  }
  const Verdict ok = Rec(destroyed);
  EXPECT_TRUE(ok.passed()) << ok.ToString();
}

}  // namespace
}  // namespace faultline
