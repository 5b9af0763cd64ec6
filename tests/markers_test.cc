// Coverage markers (checkers/markers.h) on library scenarios whose story says what they reach:
// each marker a scenario is built to reach is hit, and a plain run hits no fault, failover or
// recovery marker.
#include "checkers/markers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

std::vector<std::string> MarkersOf(const std::string& file) {
  Result<scenarios::Scenario> s =
      scenarios::LoadScenarioFile(std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/" + file);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return {};
  Result<scenarios::RunReport> r = scenarios::RunScenario(*s, {});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->markers : std::vector<std::string>{};
}

bool Has(const std::vector<std::string>& markers, const std::string& m) {
  EXPECT_TRUE(checkers::MarkerFromName(m).has_value()) << "no marker " << m;
  return std::find(markers.begin(), markers.end(), m) != markers.end();
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += s + " ";
  return out;
}

TEST(MarkersTest, AHappyRunReachesOnlyCheckpointsAndItsEnd) {
  const std::vector<std::string> m = MarkersOf("happy_aligned.textproto");
  EXPECT_EQ(m, (std::vector<std::string>{"checkpoint-completed", "final-checkpoint"})) << Joined(m);
}

struct Expected {
  const char* file;
  std::vector<std::string> reached;
  std::vector<std::string> not_reached;
};

void PrintTo(const Expected& e, std::ostream* os) {
  *os << e.file;
}

class ScenarioMarkersTest : public ::testing::TestWithParam<Expected> {};

TEST_P(ScenarioMarkersTest, ReachesWhatItsStoryTells) {
  const Expected& e = GetParam();
  const std::vector<std::string> m = MarkersOf(e.file);
  for (const std::string& want : e.reached) EXPECT_TRUE(Has(m, want)) << want << ": " << Joined(m);
  for (const std::string& not_want : e.not_reached) {
    EXPECT_FALSE(Has(m, not_want)) << not_want << ": " << Joined(m);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Library, ScenarioMarkersTest,
    ::testing::Values(
        Expected{"jobmanager_failover.textproto",
                 {"jobmanager-failover", "fault-hit"},
                 {"taskmanager-crashed", "checkpoint-fallback", "checksum-mismatch-detected"}},
        // Checkpoint 3 was aligning when the TaskManager died; the new attempt's barriers
        // are not "during" that alignment.
        Expected{"crash_during_alignment.textproto",
                 {"taskmanager-crashed", "job-restarted", "fault-hit"},
                 {"jobmanager-failover", "barrier-during-alignment"}},
        Expected{"aligned_timeout_stale_barrier.textproto",
                 {"barrier-during-alignment", "checkpoint-declined", "alignment-timed-out"},
                 {}},
        Expected{"corrupt_latest_fallback.textproto",
                 {"checkpoint-fallback", "restored-older-than-latest", "storage-destroyed",
                  "checksum-mismatch-detected"},
                 {}},
        Expected{"corrupt_latest_fail.textproto", {"checksum-mismatch-detected"}, {}},
        Expected{"backpressure_aligned.textproto",
                 {"checkpoint-completed"},
                 {"barrier-during-alignment", "alignment-timed-out", "fault-hit"}},
        Expected{"backpressure_aligned_timeout.textproto",
                 {"alignment-timed-out", "channel-state-persisted"},
                 {"channel-state-restored"}},
        Expected{"unaligned_fail_after_channel_replay.textproto",
                 {"channel-state-persisted", "channel-state-restored", "job-restarted"},
                 {}},
        Expected{"transaction_timeout_too_short.textproto", {"transaction-expired"}, {}},
        Expected{"slow_recovery_commit.textproto", {"transaction-recovered"}, {}},
        Expected{"switch_drop_subsumed_commit.textproto", {"concurrent-checkpoints"}, {}},
        Expected{"zombie_after_partition.textproto", {"job-restarted", "fault-hit"}, {}}),
    [](const ::testing::TestParamInfo<Expected>& param) {
      std::string name = param.param.file;
      name = name.substr(0, name.find('.'));
      return name;
    });

// switch_no_fencing with its switch off: the dead attempt's commits, delayed on their way to the
// store, land after the restored sink raised its fence and are refused. They were requested
// before the new attempt existed, so only the times they applied show the zombie.
TEST(MarkersTest, ACommitDelayedPastTheSuccessorsFenceIsZombieFenced) {
  Result<scenarios::Scenario> s = scenarios::LoadScenarioFile(
      std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/switch_no_fencing.textproto");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  s->spec.clear_teaching_switches();
  Result<scenarios::RunReport> r = scenarios::RunScenario(*s, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(Has(r->markers, "zombie-fenced")) << Joined(r->markers);
  EXPECT_TRUE(Has(r->markers, "transaction-recovered")) << Joined(r->markers);
}

// The rules on a recorded run altered the way a run reaching them would be: a fenced zombie's
// refused call (requested late, unlike the library's), and barrier n+1 while n is aligning (but
// not a stale barrier of a checkpoint the task already passed).
class DoctoredMarkersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto run = testing_support::RunLibrary(FAULTLINE_SCENARIO_LIBRARY_DIR,
                                           "crash_during_alignment.textproto");
    Result<checkers::RunRecord> record =
        checkers::RecordRun(*run->jw, *run->recorder, &run->log, {.status = run->status});
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    record_ = new checkers::RunRecord(std::move(*record));
    run_ = run.release();
  }
  static void TearDownTestSuite() {
    delete record_;
    delete run_;
  }
  static testing_support::LibraryRun* run_;
  static checkers::RunRecord* record_;
};
testing_support::LibraryRun* DoctoredMarkersTest::run_ = nullptr;
checkers::RunRecord* DoctoredMarkersTest::record_ = nullptr;

TEST_F(DoctoredMarkersTest, AFencedZombieCallIsZombieFenced) {
  EXPECT_FALSE(checkers::MarkersOf(*record_).has(checkers::Marker::kZombieFenced));
  checkers::RunRecord r = *record_;
  uint64_t newest = 0;
  for (const checkers::ServiceCall& c : r.recording.calls) newest = std::max(newest, c.attempt);
  ASSERT_GE(newest, 2u);
  checkers::ServiceCall refused;
  refused.service = sim::Service::kOutputStore;
  refused.op = sim::ServiceOp::kTxnWrite;
  refused.attempt = newest - 1;
  refused.requested = r.end;
  refused.applied = r.end;
  refused.code = StatusCode::kAborted;
  r.recording.calls.push_back(refused);
  EXPECT_TRUE(checkers::MarkersOf(r).has(checkers::Marker::kZombieFenced));
  // The same refusal from the newest writer is no zombie.
  r.recording.calls.back().attempt = newest;
  EXPECT_FALSE(checkers::MarkersOf(r).has(checkers::Marker::kZombieFenced));
}

TEST_F(DoctoredMarkersTest, BarrierDuringAlignmentButNotAStaleBarrier) {
  auto barrier = [](uint64_t checkpoint, int64_t input) {
    checkers::EngineEventRecord e;
    e.time = Time::Zero() + Duration::Seconds(1000);
    e.node = 9;
    e.event = engine::EngineEvent::kBarrierReceived;
    e.args.checkpoint = static_cast<int64_t>(checkpoint);
    e.args.input = input;
    e.detail = "doctored#0";
    return e;
  };
  checkers::EngineEventRecord aligned = barrier(7, 0);
  aligned.event = engine::EngineEvent::kAligned;
  aligned.args.input.reset();
  aligned.args.in_flight_buffers = 0;
  // 7 aligned, then a stale barrier of 6 arrives, then 8: nothing was aligning when 8 came.
  checkers::RunRecord stale = *record_;
  std::erase_if(stale.recording.events, [](const checkers::EngineEventRecord& e) {
    return e.event == engine::EngineEvent::kBarrierReceived;
  });
  stale.recording.events.push_back(barrier(7, 0));
  stale.recording.events.push_back(aligned);
  stale.recording.events.push_back(barrier(6, 1));
  stale.recording.events.push_back(barrier(8, 0));
  EXPECT_FALSE(checkers::MarkersOf(stale).has(checkers::Marker::kBarrierDuringAlignment));
  // 7 arrives on input 0, then 8 on input 1 before 7 aligned.
  checkers::RunRecord during = stale;
  during.recording.events.resize(during.recording.events.size() - 3);
  during.recording.events.push_back(barrier(8, 1));
  EXPECT_TRUE(checkers::MarkersOf(during).has(checkers::Marker::kBarrierDuringAlignment));
}

TEST(MarkersTest, NamesRoundTrip) {
  for (checkers::Marker m : checkers::kAllMarkers) {
    EXPECT_EQ(checkers::MarkerFromName(checkers::MarkerName(m)), m);
    EXPECT_FALSE(checkers::MarkerDescription(m).empty());
  }
  EXPECT_FALSE(checkers::MarkerFromName("no-such-marker").has_value());
}

}  // namespace
}  // namespace faultline
