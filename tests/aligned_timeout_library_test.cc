// The library's aligned_timeout_stale_barrier.textproto, asserted from the trace: a producer
// converted checkpoint n's queued aligned barrier to an unaligned one (alignment-timed-out on
// its outputs) while an older checkpoint's barrier was still on its way (a consumer received a
// barrier older than n after n's conversion); yet no consumer received one checkpoint's barrier
// twice on one input: the conversion replaced n's own barrier, not the older one queued ahead.
// That the run passes, judged (EO-CUT among them), is library_scenarios_test's part.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>

#include "checkers/recorder.h"
#include "engine/exec/events.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

using engine::EngineEvent;

TEST(AlignedTimeoutLibraryTest, AConversionBehindAnOlderQueuedBarrierSendsEachBarrierOnce) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "aligned_timeout_stale_barrier.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  std::map<int64_t, Time> converted;  // checkpoint -> its first output-side conversion
  std::set<std::tuple<std::string, int64_t, int64_t>> received;  // (task, input, checkpoint)
  size_t stale = 0;  // barriers received after a newer checkpoint's conversion
  for (const checkers::EngineEventRecord& e : run->recorder->recording().events) {
    const int64_t checkpoint = e.args.checkpoint.value_or(0);
    if (e.event == EngineEvent::kAlignmentTimedOut && e.args.output_side.value_or(0) == 1) {
      converted.try_emplace(checkpoint, e.time);
    }
    if (e.event != EngineEvent::kBarrierReceived) continue;
    const int64_t input = e.args.input.value_or(-1);
    EXPECT_TRUE(received.emplace(e.detail, input, checkpoint).second)
        << e.detail << " received checkpoint " << checkpoint << "'s barrier twice on input "
        << input;
    for (const auto& [newer, at] : converted) {
      if (newer > checkpoint && at < e.time) ++stale;
    }
  }
  EXPECT_GT(stale, 0u) << "no older barrier was still on its way when a newer one converted";
}

}  // namespace
}  // namespace faultline
