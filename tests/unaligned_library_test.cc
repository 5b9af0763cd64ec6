// The library's unaligned runs with failures under back-pressure
// (scenarios/library/unaligned_*.textproto), asserted from the trace: each checkpoint before the
// failure persisted channel state (metadata written with channel-state blobs holding records),
// and every restore replayed it (a channel-state-replayed engine event after each job restart);
// the fault fell where the scenario says. That each passes, judged, is
// library_scenarios_test's part (expected verdict PASS; an unjudged checker is INCONCLUSIVE).
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "checkers/channel_state.h"
#include "checkers/recorder.h"
#include "checkers/run_view.h"
#include "engine/exec/events.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

using engine::EngineEvent;
using testing_support::LibraryRun;

struct Observed {
  std::set<uint64_t> restored;  // checkpoints a deployment restored
  // Job restarts (1 = the first) after which a task finished replaying restored channel state
  // (the event carries the task's latest checkpoint by then, not the restored one).
  std::set<size_t> attempts_replaying;
  std::set<uint64_t> with_channel_state;  // checkpoints whose restore replays records
  size_t alignment_timeouts = 0;
  size_t restarts = 0;
};

Observed Observe(const std::string& file) {
  std::unique_ptr<LibraryRun> run =
      testing_support::RunLibrary(FAULTLINE_SCENARIO_LIBRARY_DIR, file);
  EXPECT_EQ(run->status, engine::JobStatus::kFinished) << file;
  Observed o;
  for (const checkers::EngineEventRecord& e : run->recorder->recording().events) {
    const auto checkpoint = static_cast<uint64_t>(e.args.checkpoint.value_or(0));
    if (e.event == EngineEvent::kChannelStateReplayed) o.attempts_replaying.insert(o.restarts);
    if (e.event == EngineEvent::kRestoreStarted && checkpoint > 0) o.restored.insert(checkpoint);
    if (e.event == EngineEvent::kAlignmentTimedOut) ++o.alignment_timeouts;
    if (e.event == EngineEvent::kJobRestart) ++o.restarts;
  }
  const checkers::RunView view = run->View();
  const checkers::SentBlobs sent(view);
  for (uint64_t c : o.restored) {
    const checkers::RestoredChannels channels =
        checkers::RestoredChannelsOf(sent, run->jw->setup(), c).value();
    for (const auto& [channel, records] : channels) {
      if (!records.empty()) o.with_channel_state.insert(c);
    }
  }
  return o;
}

void ExpectWrittenAndRestored(const Observed& o) {
  ASSERT_FALSE(o.restored.empty()) << "no restore";
  EXPECT_FALSE(o.with_channel_state.empty()) << "no restored checkpoint held in-flight records";
  for (size_t attempt = 1; attempt <= o.restarts; ++attempt) {
    EXPECT_TRUE(o.attempts_replaying.contains(attempt))
        << "the restore of attempt " << attempt << " replayed no channel state";
  }
}

TEST(UnalignedLibraryTest, AFailureWhileChannelStateUploadsRestoresThePreviousOne) {
  const Observed o = Observe("unaligned_fail_during_channel_upload.textproto");
  ExpectWrittenAndRestored(o);
  EXPECT_EQ(o.restored, (std::set<uint64_t>{2})) << "checkpoint 3 never completed";
  EXPECT_EQ(o.restarts, 1u);
}

TEST(UnalignedLibraryTest, AFailureRightAfterTheReplayReplaysAgain) {
  const Observed o = Observe("unaligned_fail_after_channel_replay.textproto");
  ExpectWrittenAndRestored(o);
  EXPECT_EQ(o.restarts, 2u);
  EXPECT_GE(o.with_channel_state.size(), 2u) << "both restores replay channel state";
}

TEST(UnalignedLibraryTest, ATaskManagerCrashWithTheAlignedTimeoutReplaysItsChannelState) {
  const Observed o = Observe("unaligned_timeout_tm_crash.textproto");
  ExpectWrittenAndRestored(o);
  EXPECT_GT(o.alignment_timeouts, 0u) << "no alignment timed out: no channel state to persist";
  EXPECT_EQ(o.restored, (std::set<uint64_t>{2}));
}

}  // namespace
}  // namespace faultline
