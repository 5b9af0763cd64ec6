// The regression corpus (tests/regressions/*.textproto): minimized reproducers of what the
// generated-case property found, each replayed to the verdict its `expect` names.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
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
