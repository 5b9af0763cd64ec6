// EO-OUT checks the logged processing order in unaligned mode too, across restores: each input
// channel delivers what the restore replays (the restored checkpoint's channel state) before any
// newer data, then what its producer sent in the same attempt. Real unaligned runs under
// back-pressure (scenarios/library/backpressure_unaligned.textproto): clean, they pass judged;
// with two records of one channel swapped in the order log, or a restored in-flight record
// moved behind newer data of its channel, they fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "checkers/channel_state.h"
#include "checkers/eo_out.h"
#include "checkers/order_log.h"
#include "checkers/run_view.h"
#include "simulator/job_world.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

using checkers::Verdict;
using testing_support::LibraryRun;

constexpr char kScenario[] = "backpressure_unaligned.textproto";

// Crashes TaskManager 2 at 1.7 s (after checkpoint 3, taken under back-pressure) and restarts
// it 300 ms later: the job restores checkpoint 3 with its channel state.
void CrashAfterCheckpoint3(sim::JobWorld& jw) {
  jw.world().loop().Schedule(Time::Zero() + Duration::Millis(1700), [&jw] {
    jw.world().Crash(2, "test: TaskManager crash");
    jw.world().loop().ScheduleAfter(Duration::Millis(300), [&jw] { jw.world().Restart(2); });
  });
}

// With `crash`, the sources hold 4x the records, so they still emit when the crash comes: the
// restored attempts take newer data after the replayed channel state.
std::unique_ptr<LibraryRun> RunBackpressured(bool crash) {
  return testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, kScenario, crash ? CrashAfterCheckpoint3 : nullptr,
      [crash](scenarios::proto::Scenario& spec) {
        if (crash)
          spec.mutable_job()->mutable_operators(0)->mutable_source()->set_records_per_partition(
              8000);
      });
}

void ExpectOrderBreak(const Verdict& v) {
  ASSERT_TRUE(v.violated()) << v.ToString();
  EXPECT_NE(v.first()->what.find("did not deliver next"), std::string::npos) << v.ToString();
}

// Swaps the first two different records of one input channel in `log` (of a non-source task);
// false when it has none.
bool SwapTwoOfOneChannel(checkers::AttemptLog& log, size_t from = 0) {
  auto& processed = log.processed;
  for (size_t a = from; a < processed.size(); ++a) {
    for (size_t b = a + 1; b < processed.size(); ++b) {
      if (processed[b].input != processed[a].input) continue;
      if (processed[b].record == processed[a].record) break;
      std::swap(processed[a], processed[b]);
      return true;
    }
  }
  return false;
}

TEST(UnalignedOrderTest, ACleanRunPassesJudgedAndASwapOfOneChannelFails) {
  std::unique_ptr<LibraryRun> run = RunBackpressured(false);
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const Verdict clean = checkers::CheckExactlyOnceOutput(run->View());
  EXPECT_TRUE(clean.passed()) << clean.ToString();
  EXPECT_TRUE(clean.judged()) << clean.ToString();
  EXPECT_TRUE(clean.notes().empty()) << clean.ToString();

  // The keyed task sum+out#0 (after source 0-3, slow+double 4-7): two records of a channel.
  const engine::JobSetup& setup = run->jw->setup();
  const uint32_t keyed = setup.plan.tasks_of_chain.back().front();
  std::vector<const checkers::AttemptLog*> attempts = run->log.AttemptsOf(keyed);
  ASSERT_EQ(attempts.size(), 1u);
  ASSERT_TRUE(SwapTwoOfOneChannel(const_cast<checkers::AttemptLog&>(*attempts[0])));
  ExpectOrderBreak(checkers::CheckExactlyOnceOutput(run->View()));
}

TEST(UnalignedOrderTest, RestoredChannelStateComesBeforeNewerDataOfItsChannel) {
  std::unique_ptr<LibraryRun> run = RunBackpressured(true);
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::RunView view = run->View();
  const Verdict clean = checkers::CheckExactlyOnceOutput(view);
  EXPECT_TRUE(clean.passed()) << clean.ToString();
  EXPECT_TRUE(clean.judged()) << clean.ToString();

  // A restored attempt that took, on one input channel, its replayed channel state and then
  // newer data: the channel's positions in its log.
  const engine::JobSetup& setup = run->jw->setup();
  const checkers::SentBlobs sent(view);
  checkers::AttemptLog* restored = nullptr;
  size_t replayed = 0;
  std::vector<size_t> positions;
  for (uint32_t task = 0; task < setup.plan.tasks.size() && restored == nullptr; ++task) {
    for (const checkers::AttemptLog* log : run->log.AttemptsOf(task)) {
      if (log->start_checkpoint.value_or(0) == 0 || restored != nullptr) continue;
      const checkers::RestoredChannels channels =
          checkers::RestoredChannelsOf(sent, setup, *log->start_checkpoint).value();
      for (const auto& [channel, records] : channels) {
        if (channel.first != task || records.empty()) continue;
        positions.clear();
        for (size_t i = 0; i < log->processed.size(); ++i) {
          if (log->processed[i].input == channel.second) positions.push_back(i);
        }
        if (positions.size() <= records.size()) continue;
        restored = const_cast<checkers::AttemptLog*>(log);
        replayed = records.size();
        break;
      }
    }
  }
  ASSERT_NE(restored, nullptr) << "no restore replayed channel state before newer data";

  // The first replayed record moved behind the first newer record of its channel.
  auto& processed = restored->processed;
  const auto first = processed.begin() + static_cast<std::ptrdiff_t>(positions[0]);
  const auto newer = processed.begin() + static_cast<std::ptrdiff_t>(positions[replayed]);
  std::rotate(first, first + 1, newer + 1);
  ExpectOrderBreak(checkers::CheckExactlyOnceOutput(view));
}

}  // namespace
}  // namespace faultline
