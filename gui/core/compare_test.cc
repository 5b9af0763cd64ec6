// Comparing runs: a branch parts from its parent no earlier than its moment; the same seed run
// twice never parts; two seeds part; the states at a moment after a crash differ where the crash
// shows (nodes down, lost tasks), and not at all before the runs part.
#include "gui/core/compare.h"

#include <gtest/gtest.h>

#include "gui/core/session.h"

namespace faultline::gui {
namespace {

std::string Library(const std::string& file) {
  return std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/" + file;
}

TEST(CompareTest, ABranchPartsFromItsParentAtItsMoment) {
  Result<std::unique_ptr<Session>> opened = Session::Open(Library("happy_aligned.textproto"), 3);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Session& session = **opened;
  const Recording& root = *session.branch(0).recording;
  const Time at = root.records[root.records.size() / 3].time;
  Result<int> id =
      session.BranchWithFault(0, at, CrashTaskManagerFault(1, Duration::Millis(500)), "crash");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const Recording& branch = *session.branch(*id).recording;
  const std::optional<Divergence> d = FirstDivergence(root, branch);
  ASSERT_TRUE(d.has_value());
  EXPECT_GE(d->at, at);
  EXPECT_LT(d->record, std::min(root.records.size(), branch.records.size()));
  EXPECT_FALSE(d->here.empty());
  EXPECT_FALSE(d->there.empty());
  EXPECT_NE(d->here, d->there);
  for (size_t i = 0; i < d->record; ++i) {
    ASSERT_EQ(sim::FormatTraceRecord(root.records[i]), sim::FormatTraceRecord(branch.records[i]));
  }
  // Before they part, the states are the same; a while after the crash they differ.
  Timeline a(root), b(branch);
  a.SeekRecord(d->record);
  b.SeekRecord(d->record);
  EXPECT_TRUE(CompareStates(a.state(), b.state()).empty());
  a.SeekTime(d->at + Duration::Millis(200));
  b.SeekTime(d->at + Duration::Millis(200));
  const std::vector<StateDifference> diff = CompareStates(a.state(), b.state());
  ASSERT_FALSE(diff.empty());
  bool crash_shows = false;
  for (const StateDifference& x : diff) {
    EXPECT_NE(x.here, x.there) << x.what;
    crash_shows |= x.what == "nodes down" || x.there.starts_with("lost") ||
                   x.there.starts_with("cancelled") || x.what == "job";
  }
  EXPECT_TRUE(crash_shows);
}

TEST(CompareTest, TheSameSeedNeverPartsAndTwoSeedsDo) {
  Result<std::unique_ptr<Session>> one =
      Session::Open(Library("crash_during_alignment.textproto"), 5);
  Result<std::unique_ptr<Session>> again =
      Session::Open(Library("crash_during_alignment.textproto"), 5);
  Result<std::unique_ptr<Session>> other =
      Session::Open(Library("crash_during_alignment.textproto"), 6);
  ASSERT_TRUE(one.ok() && again.ok() && other.ok());
  EXPECT_FALSE(FirstDivergence(*(*one)->branch(0).recording, *(*again)->branch(0).recording));
  const std::optional<Divergence> d =
      FirstDivergence(*(*one)->branch(0).recording, *(*other)->branch(0).recording);
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->here.empty());
}

}  // namespace
}  // namespace faultline::gui
