// The regression corpus (tests/regressions/*.textproto): minimized reproducers of what the
// generated-case property found, each replayed to the verdict its `expect` names.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "checkers/degradation.h"
#include "checkers/eo_out.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "tests/support/library_run.h"

namespace faultline {
namespace {

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(FAULTLINE_REGRESSIONS_DIR)) {
    if (entry.path().extension() == ".textproto") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class RegressionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RegressionTest, ReachesItsExpectedVerdict) {
  auto scenario = scenarios::LoadScenarioFile(GetParam());
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  auto report = scenarios::RunScenario(*scenario, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->as_expected()) << scenarios::FormatReport(*report);
  // Every plan entry fires, unless a fault left the checkpoint its trigger names behind or the
  // job finished first: the entries that never fired are exactly the explained ones.
  std::multiset<std::string> overtaken;  // "name (why)": the names
  for (const auto* explained : {&report->fault_plan_overtaken, &report->fault_plan_after_end}) {
    for (const std::string& o : *explained) overtaken.insert(o.substr(0, o.find(" (")));
  }
  EXPECT_EQ(std::multiset<std::string>(report->fault_plan_unfired.begin(),
                                       report->fault_plan_unfired.end()),
            overtaken)
      << scenarios::FormatReport(*report);
  // An expected INCONCLUSIVE is one the planned faults explain (as the property requires).
  EXPECT_TRUE(report->unexplained.empty()) << scenarios::FormatReport(*report);
}

// entries_after_job_end: three entries still waiting when the finished job's run ended (an `at`
// after the end, an event seen once of the three times it waits for, a delay due after the end)
// are explained by the job's end, each with its reason. A longer job cut off while running
// explains none: an unfinished job is no reason.
TEST(RegressionCorpus, EntriesWaitingWhenTheJobFinishedAreExplainedByItsEnd) {
  auto scenario = scenarios::LoadScenarioFile(std::string(FAULTLINE_REGRESSIONS_DIR) +
                                              "/entries_after_job_end.textproto");
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  auto report = scenarios::RunScenario(*scenario, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->status, engine::JobStatus::kFinished);
  EXPECT_EQ(report->outcome, scenarios::RunReport::Outcome::kInconclusive);
  EXPECT_TRUE(report->unexplained.empty()) << scenarios::FormatReport(*report);
  const std::vector<std::string>& after_end = report->fault_plan_after_end;
  ASSERT_EQ(after_end.size(), 3u) << scenarios::FormatReport(*report);
  EXPECT_TRUE(after_end[0].starts_with("nemesis/blob_throttle#12 (due at 4.11s: the job finished"))
      << after_end[0];
  EXPECT_TRUE(after_end[1].ends_with("with 1 checkpoint-completed of the 3 it waits for)"))
      << after_end[1];
  EXPECT_TRUE(after_end[2].starts_with("long-after-first-completion (triggered, due at 10."))
      << after_end[2];

  // 1 000 source records (about 19 s) cut off at 3 s; the timed entry, past that limit, removed
  // (a plan may not name it). The 10 s delay is still waiting in a job that did not finish.
  scenario->spec.mutable_job()->mutable_operators(0)->mutable_source()->set_records_per_partition(
      1000);
  scenario->spec.set_run_limit("3s");
  scenario->spec.mutable_faults()->DeleteSubrange(0, 1);
  auto cut = scenarios::RunScenario(*scenario, {});
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  ASSERT_NE(cut->status, engine::JobStatus::kFinished);
  EXPECT_TRUE(cut->fault_plan_after_end.empty()) << scenarios::FormatReport(*cut);
  EXPECT_EQ(cut->fault_plan_unfired, std::vector<std::string>{"long-after-first-completion"});
  EXPECT_NE(
      std::find(cut->unexplained.begin(), cut->unexplained.end(), "fault plan entries never fired"),
      cut->unexplained.end())
      << scenarios::FormatReport(*cut);
}

// unaligned_flatmap_committed_value: behind a rebalance a key's records without single-record
// provenance commit in any interleaving. EO-OUT pairs each with an equal one of its key, so
// swapping two of them keeps the verdict, and a changed value still fails.
TEST(RegressionCorpus, ProvenancelessRecordsArePairedByValueNotPosition) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_REGRESSIONS_DIR, "unaligned_flatmap_committed_value.textproto");
  checkers::RunView view = run->View();
  ASSERT_TRUE(checkers::CheckExactlyOnceOutput(view).passed());
  // Two committed records of one key, without provenance, with different values.
  std::optional<size_t> first;
  std::optional<size_t> second;
  for (size_t i = 0; i < view.committed.size() && !second; ++i) {
    const engine::Record& r = view.committed[i].record;
    if (r.provenance.count != 0) continue;
    if (!first) {
      first = i;
    } else if (r.key == view.committed[*first].record.key &&
               r.value != view.committed[*first].record.value) {
      second = i;
    }
  }
  ASSERT_TRUE(first && second);
  checkers::RunView swapped = view;
  std::swap(swapped.committed[*first].record, swapped.committed[*second].record);
  const checkers::Verdict after_swap = checkers::CheckExactlyOnceOutput(swapped);
  EXPECT_TRUE(after_swap.passed()) << after_swap.ToString();
  checkers::RunView altered = view;
  altered.committed[*first].record.value += 1000;
  const checkers::Verdict after_change = checkers::CheckExactlyOnceOutput(altered);
  ASSERT_TRUE(after_change.violated()) << after_change.ToString();
  EXPECT_EQ(after_change.first()->what, "a committed value differs from the reference");
}

// upsert_table_unfinished: the job never finishes, so the upsert table is a prefix's; a value
// the reference never gives its key still fails.
TEST(RegressionCorpus, AnUnfinishedUpsertTableHoldsValuesTheReferenceGives) {
  std::unique_ptr<testing_support::LibraryRun> run =
      testing_support::RunLibrary(FAULTLINE_REGRESSIONS_DIR, "upsert_table_unfinished.textproto");
  ASSERT_NE(run->status, engine::JobStatus::kFinished);
  checkers::RunView view = run->View();
  const checkers::OutputJudging unfinished{.finished = false};
  ASSERT_TRUE(checkers::CheckExactlyOnceOutput(view, unfinished).passed());
  ASSERT_FALSE(view.committed.empty());
  view.committed.back().record.value = -123456789;  // the last write of its key
  const checkers::Verdict altered = checkers::CheckExactlyOnceOutput(view, unfinished);
  ASSERT_TRUE(altered.violated()) << altered.ToString();
  EXPECT_EQ(altered.first()->what, "the upsert sink's final table differs from the reference");
}

// broadcast_before_aggregate_values: one source id reaches the sink once per broadcast copy, with
// different running sums; each committed copy pairs with an equal one, and a changed value fails.
TEST(RegressionCorpus, CopiesOfOneIdArePairedByValue) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_REGRESSIONS_DIR, "broadcast_before_aggregate_values.textproto");
  checkers::RunView view = run->View();
  const checkers::Verdict clean = checkers::CheckExactlyOnceOutput(view);
  ASSERT_FALSE(clean.violated()) << clean.ToString();
  ASSERT_FALSE(view.committed.empty());
  view.committed.front().record.value += 1000;
  const checkers::Verdict altered = checkers::CheckExactlyOnceOutput(view);
  ASSERT_TRUE(altered.violated()) << altered.ToString();
  EXPECT_EQ(altered.first()->what, "a committed value differs from the reference");
}

// restore_failed_part_way: the job stops after a restore that failed part way, its tasks at
// different attempts. Replayed to the newest completed checkpoint its values hold; replayed to
// each task's newest attempt (as for a finished job) they did not.
TEST(RegressionCorpus, AnUnfinishedJobsValuesReplayToItsLastCompletedCheckpoint) {
  std::unique_ptr<testing_support::LibraryRun> run =
      testing_support::RunLibrary(FAULTLINE_REGRESSIONS_DIR, "restore_failed_part_way.textproto");
  ASSERT_NE(run->status, engine::JobStatus::kFinished);
  const checkers::RunView view = run->View();
  const checkers::Verdict to_checkpoint =
      checkers::CheckExactlyOnceOutput(view, {.finished = false, .last_completed = 2});
  EXPECT_FALSE(to_checkpoint.violated()) << to_checkpoint.ToString();
  const checkers::Verdict to_newest = checkers::CheckExactlyOnceOutput(view, {.finished = false});
  EXPECT_TRUE(to_newest.violated()) << "the seed no longer shows the mixed attempts";
}

// fallback_flatmap_copies: a fallback from checkpoint 3 to 2 emits the range between them again
// in another order. The flat_map's second copies (no single-record provenance) that attempt 1
// committed in checkpoint 3's transaction are judged against the reference before the fallback,
// the re-emitted ones against the final reference; a changed value of either still fails.
TEST(RegressionCorpus, FallbackCopiesWithoutProvenanceAreJudgedBeforeTheFallback) {
  std::unique_ptr<testing_support::LibraryRun> run =
      testing_support::RunLibrary(FAULTLINE_REGRESSIONS_DIR, "fallback_flatmap_copies.textproto");
  const checkers::OutputJudging judging{
      .fallbacks = checkers::ReportedFallbacks(run->recorder->recording())};
  ASSERT_EQ(judging.fallbacks.size(), 1u);
  const std::set<std::string>& earlier = judging.fallbacks[0].earlier_txns;
  EXPECT_EQ(earlier, std::set<std::string>{"sink#0/attempt-1/txn-2"});
  const checkers::RunView view = run->View();
  const checkers::Verdict clean = checkers::CheckExactlyOnceOutput(view, judging);
  ASSERT_TRUE(clean.passed()) << clean.ToString();
  // The first provenance-less record committed before the fallback into the re-emitted range,
  // and the first one the restored attempt committed.
  std::optional<size_t> before;
  std::optional<size_t> after;
  for (size_t i = 0; i < view.committed.size(); ++i) {
    const checkers::CommittedRecord& c = view.committed[i];
    if (c.record.provenance.count != 0) continue;
    if (!before && earlier.contains(c.txn)) before = i;
    if (!after && c.epoch > 1) after = i;
  }
  ASSERT_TRUE(before && after);
  for (const auto& [at, what] :
       {std::pair{*before,
                  "a committed value written before a reported fallback into the range it "
                  "emits again differs from the reference before it"},
        std::pair{*after, "a committed value differs from the reference"}}) {
    checkers::RunView altered = view;
    altered.committed[at].record.value += 1000;
    const checkers::Verdict verdict = checkers::CheckExactlyOnceOutput(altered, judging);
    ASSERT_TRUE(verdict.violated()) << verdict.ToString();
    EXPECT_EQ(verdict.first()->what, what);
  }
}

// fallback_sink_channel_copies (generated seed 28838): agg3's running sums of key v0 that were in
// flight to the sink at checkpoint 1's barrier (4740, 4866, ...) were written after it into
// txn-1, while later sums (5004, 5436) had reached the sink before it. The reference to the
// fallback checkpoint holds the latter, so they, not the first records of the key, are taken out
// of what txn-1 is compared against. A txn-1 value the sink had already written before the cut
// (5004), or any other changed value, still fails.
TEST(RegressionCorpus, FallbackCopiesInFlightToTheSinkAreJudgedBeforeTheFallback) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_REGRESSIONS_DIR, "fallback_sink_channel_copies.textproto");
  const checkers::OutputJudging judging{
      .fallbacks = checkers::ReportedFallbacks(run->recorder->recording())};
  ASSERT_EQ(judging.fallbacks.size(), 1u);
  const std::set<std::string>& earlier = judging.fallbacks[0].earlier_txns;
  const checkers::RunView view = run->View();
  const checkers::Verdict clean = checkers::CheckExactlyOnceOutput(view, judging);
  ASSERT_TRUE(clean.passed()) << clean.ToString();
  std::optional<size_t> in_flight;  // v0=4740, written into txn-1 after checkpoint 1's barrier
  for (size_t i = 0; i < view.committed.size() && !in_flight; ++i) {
    const checkers::CommittedRecord& c = view.committed[i];
    if (c.record.provenance.count == 0 && earlier.contains(c.txn) && c.record.key == "v0" &&
        c.record.value == 4740) {
      in_flight = i;
    }
  }
  ASSERT_TRUE(in_flight) << "the seed no longer writes v0=4740 before the fallback";
  for (const int64_t value : {int64_t{5004}, int64_t{4741}}) {
    checkers::RunView altered = view;
    altered.committed[*in_flight].record.value = value;
    const checkers::Verdict verdict = checkers::CheckExactlyOnceOutput(altered, judging);
    ASSERT_TRUE(verdict.violated()) << value << ": " << verdict.ToString();
    EXPECT_EQ(verdict.first()->what,
              "a committed value written before a reported fallback into the range it emits "
              "again differs from the reference before it");
  }
}

// upsert_stale_after_restore (generated seed 18575): attempt 1 upserted k59=26 after checkpoint
// 1, which attempt 2 restored; along attempt 2's order the key is never written again, so the
// finished job's table keeps 26 though the final reference's last value is 8. Accepted as such;
// a changed value fails, and so does the same value written by the restored attempt.
TEST(RegressionCorpus, AnUpsertAnAttemptWroteAfterTheRestoredCheckpointStays) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_REGRESSIONS_DIR, "upsert_stale_after_restore.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::RunView view = run->View();
  const checkers::Verdict clean = checkers::CheckExactlyOnceOutput(view);
  ASSERT_TRUE(clean.passed()) << clean.ToString();
  std::optional<size_t> stale;  // k59's table record
  for (size_t i = 0; i < view.committed.size(); ++i) {
    if (view.committed[i].record.key == "k59") stale = i;
  }
  ASSERT_TRUE(stale);
  ASSERT_EQ(view.committed[*stale].epoch, 1u);
  ASSERT_EQ(view.committed[*stale].record.value, 26) << "the seed no longer leaves k59=26";
  checkers::RunView changed = view;
  changed.committed[*stale].record.value = 27;
  checkers::RunView restored = view;  // as if attempt 2, which restored checkpoint 1, wrote it
  restored.committed[*stale].epoch = 2;
  for (const checkers::RunView& altered : {changed, restored}) {
    const checkers::Verdict verdict = checkers::CheckExactlyOnceOutput(altered);
    ASSERT_TRUE(verdict.violated()) << verdict.ToString();
    EXPECT_EQ(verdict.first()->what, "the upsert sink's final table differs from the reference");
  }
}

// upsert_stale_key_after_restore (generated seed 74878): attempt 1 upserted k13 after checkpoint
// 1, and no history after the restore ever writes k13: the key stays in the table. An engine
// that lost the restored attempt's upserts of a key leaves attempt 1's older value of that key in
// their place, which fails: the reference writes the key after checkpoint 1's cut.
TEST(RegressionCorpus, AStaleKeyStaysButALostUpsertOfTheRestoredAttemptFails) {
  std::unique_ptr<testing_support::LibraryRun> run = testing_support::RunLibrary(
      FAULTLINE_REGRESSIONS_DIR, "upsert_stale_key_after_restore.textproto");
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const checkers::RunView view = run->View();
  const checkers::Verdict clean = checkers::CheckExactlyOnceOutput(view);
  ASSERT_TRUE(clean.passed()) << clean.ToString();
  std::map<std::string, size_t> last;  // key -> its table record
  for (size_t i = 0; i < view.committed.size(); ++i) last[view.committed[i].record.key] = i;
  ASSERT_TRUE(last.contains("k13"));
  ASSERT_EQ(view.committed[last["k13"]].epoch, 1u);
  // A key both attempts wrote, attempt 1's last value another than the table's.
  std::optional<std::string> rewritten;
  for (const auto& [key, i] : last) {
    if (view.committed[i].epoch != 2) continue;
    std::optional<int64_t> before;  // attempt 1's last value of the key
    for (const checkers::CommittedRecord& c : view.committed) {
      if (c.record.key == key && c.epoch == 1) before = c.record.value;
    }
    if (before && *before != view.committed[i].record.value) {
      rewritten = key;
      break;
    }
  }
  ASSERT_TRUE(rewritten) << "no key both attempts wrote with different values";
  checkers::RunView lost = view;
  std::erase_if(lost.committed, [&](const checkers::CommittedRecord& c) {
    return c.record.key == *rewritten && c.epoch == 2;
  });
  const checkers::Verdict verdict = checkers::CheckExactlyOnceOutput(lost);
  ASSERT_TRUE(verdict.violated()) << *rewritten << ": " << verdict.ToString();
  EXPECT_EQ(verdict.first()->what, "the upsert sink's final table differs from the reference");
}

TEST(RegressionCorpus, IsNotEmpty) {
  EXPECT_FALSE(CorpusFiles().empty());
}

INSTANTIATE_TEST_SUITE_P(Corpus, RegressionTest, ::testing::ValuesIn(CorpusFiles()),
                         [](const auto& param_info) {
                           std::string name =
                               std::filesystem::path(param_info.param).stem().string();
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace faultline
