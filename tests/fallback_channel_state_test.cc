// A fallback in unaligned mode re-emits the fallback checkpoint's channel state too (issue 11's
// 10 000-seed soak, unaligned seed 273): checkpoint 3's source state was torn, the engine fell
// back to checkpoint 2, and restoring 2 replayed the records it had persisted in flight. Those
// were behind 2's cut by source offset, yet committed after it (by 3), so they are committed
// twice. EO-OUT called them a violation, because the degradation it allows covered only the
// records between the two checkpoints' source offsets; it now covers the fallback checkpoint's
// channel state as well, read from the blobs the engine wrote, not from its word.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "checkers/checker.h"
#include "checkers/degradation.h"
#include "scenarios/vary.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

constexpr uint64_t kSeed = 273;

class FallbackChannelStateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    run_ = testing_support::RunLibrary(FAULTLINE_SOAK_DIR, "unaligned.textproto", {},
                                       [](scenarios::proto::Scenario& spec) {
                                         spec = scenarios::ApplyVary(spec, kSeed).spec;
                                         spec.set_seed(kSeed);
                                       })
               .release();
    Result<checkers::RunRecord> record =
        checkers::RecordRun(*run_->jw, *run_->recorder, &run_->log, {.status = run_->status});
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    record_ = new checkers::RunRecord(std::move(*record));
  }
  static void TearDownTestSuite() {
    delete record_;
    delete run_;
  }
  static testing_support::LibraryRun* run_;
  static checkers::RunRecord* record_;
};
testing_support::LibraryRun* FallbackChannelStateTest::run_ = nullptr;
checkers::RunRecord* FallbackChannelStateTest::record_ = nullptr;

TEST_F(FallbackChannelStateTest, TheFallbackReplaysChannelStateCommittedAfterItsCut) {
  const std::vector<checkers::ReportedFallback> fallbacks =
      checkers::ReportedFallbacks(record_->recording);
  ASSERT_FALSE(fallbacks.empty());
  const checkers::ReportedFallback& f = fallbacks.front();
  EXPECT_EQ(f.unreadable, 3u);
  EXPECT_EQ(f.fallback, 2u);
  EXPECT_TRUE(f.destroyed_by_injection);
  ASSERT_FALSE(f.in_flight.empty()) << "checkpoint 2 persisted records in flight";
  // Some record committed twice is in 2's channel state and outside the source-offset range.
  checkers::ReportedFallback offsets_only = f;
  offsets_only.in_flight.clear();
  std::map<uint64_t, int> committed;  // provenance hash -> times
  for (const checkers::CommittedRecord& c : record_->view.committed) {
    if (c.record.provenance.count == 1) ++committed[c.record.provenance.hash_sum];
  }
  bool replayed_from_channel_state = false;
  for (const checkers::SourceRecord& s : record_->view.sources) {
    const uint64_t hash = engine::Provenance::Of(s.id).hash_sum;
    if (committed[hash] < 2 || offsets_only.Reemits(s.id)) continue;
    EXPECT_TRUE(f.Reemits(s.id));
    replayed_from_channel_state = true;
  }
  EXPECT_TRUE(replayed_from_channel_state);

  const checkers::Verdict eo_out = *checkers::RunChecker("EO-OUT", *record_);
  EXPECT_TRUE(eo_out.passed()) << eo_out.ToString();
}

// Without the channel state (as EO-OUT judged before), the same run is a violation.
TEST_F(FallbackChannelStateTest, OffsetsAloneDoNotExplainTheDuplicates) {
  checkers::RunRecord r = *record_;
  for (checkers::CompletionRecord& c : r.recording.completions) {
    if (c.checkpoint == 2 && c.in_flight) c.in_flight->clear();
  }
  const checkers::Verdict eo_out = *checkers::RunChecker("EO-OUT", r);
  ASSERT_TRUE(eo_out.violated()) << eo_out.ToString();
  EXPECT_EQ(eo_out.first()->what,
            "a source record is reflected more than once in the committed output");
}

}  // namespace
}  // namespace faultline
