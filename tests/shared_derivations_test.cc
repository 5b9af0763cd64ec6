// The checkers of one batch share what more than one of them derives (checkers/derived.h): the
// source index, the replay along the committed histories, the coverage. A verdict must not
// depend on that: each checker's verdict with a shared Derived, whatever ran before it, equals
// its verdict on its own. Library runs with fallbacks, failures, switches, an unfinished job and
// at-least-once checkpoints.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "checkers/checker.h"
#include "checkers/derived.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

class SharedDerivationsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SharedDerivationsTest, EveryVerdictEqualsTheCheckersOwn) {
  std::unique_ptr<testing_support::LibraryRun> run =
      testing_support::RunLibrary(FAULTLINE_SCENARIO_LIBRARY_DIR, GetParam());
  Result<checkers::RunRecord> record =
      checkers::RecordRun(*run->jw, *run->recorder, &run->log, {.status = run->status});
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  const std::vector<std::string_view> ids = checkers::KnownCheckers();
  std::vector<std::string> own;
  for (std::string_view id : ids) {
    if (id == "DET") continue;  // it needs a second run
    own.push_back(checkers::RunChecker(id, *record).value().ToString());
  }
  // In the registry's order and in reverse: whichever checker derives first.
  for (const bool reversed : {false, true}) {
    std::vector<std::string_view> order(ids.begin(), ids.end());
    order.erase(std::remove(order.begin(), order.end(), "DET"), order.end());
    if (reversed) std::reverse(order.begin(), order.end());
    checkers::Derived derived(record->view);
    for (size_t i = 0; i < order.size(); ++i) {
      const size_t at = reversed ? order.size() - 1 - i : i;
      EXPECT_EQ(checkers::RunChecker(order[i], *record, &derived).value().ToString(), own[at])
          << GetParam() << " " << order[i] << (reversed ? " (reversed)" : "");
    }
  }
}

// Each history end has its own replay, equal to the one made from scratch, whichever was asked
// for first.
TEST(SharedDerivations, EachHistoryEndHasItsOwnReplay) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_SCENARIO_LIBRARY_DIR, "lost_writes_fallback_twice.textproto");
  const checkers::RunView view = run->View();
  const auto from_scratch = [&view](const checkers::HistoryEnd& end) {
    checkers::ReferenceInput input;
    for (const checkers::SourceRecord& s : view.sources) input.sources.push_back(s.record);
    input.order =
        checkers::OrdersOf(*view.setup, *view.order, [&end](uint32_t) { return end; }).order;
    return checkers::Reference(view.setup->job).Run(std::move(input));
  };
  const checkers::HistoryEnd at_end;
  const checkers::HistoryEnd at_3{3, std::nullopt};
  const checkers::ReferenceResult want_end = from_scratch(at_end);
  const checkers::ReferenceResult want_3 = from_scratch(at_3);
  ASSERT_NE(want_end.sink, want_3.sink);  // the two ends' orders differ in this run
  checkers::Derived derived(view);
  const checkers::Derived::Replay& replay_3 = derived.Committed(at_3);
  const checkers::Derived::Replay& replay_end = derived.Committed(at_end);
  EXPECT_NE(&replay_3, &replay_end);
  EXPECT_EQ(&derived.Committed(at_3), &replay_3);  // made once
  EXPECT_EQ(replay_3.result.sink, want_3.sink);
  EXPECT_EQ(replay_end.result.sink, want_end.sink);
  EXPECT_EQ(replay_3.result.state, want_3.state);
  ASSERT_TRUE(replay_3.orders.has_value());
  EXPECT_FALSE(replay_3.orders->order.empty());  // kept for the checks that read it
  EXPECT_EQ(&derived.Index(), &derived.Index());
}

INSTANTIATE_TEST_SUITE_P(
    Library, SharedDerivationsTest,
    ::testing::Values("lost_writes_fallback_twice.textproto", "corrupt_latest_fail.textproto",
                      "happy_at_least_once.textproto", "switch_offset_after_emit.textproto",
                      "switch_drop_channel_state.textproto", "nemesis_swarm.textproto",
                      "crash_during_final_checkpoint.textproto",
                      "unaligned_fail_after_channel_replay.textproto"),
    [](const ::testing::TestParamInfo<std::string>& param) {
      return param.param.substr(0, param.param.find('.'));
    });

}  // namespace
}  // namespace faultline
