// test_my_job: testing your own job's recovery from your own GoogleTest tests.
//
// You write the job with the job API (engine/api/job.h) exactly as in word_totals.cc; a
// scenario file supplies everything else: the simulated cluster, the checkpointing settings,
// the source log (the scenario's source operator describes it), the fault plan and the
// checkers. scenarios::RunJob runs your job under it and returns the same report as
// `faultline run`, with the verdict and the command that reproduces the run.
//
// Here: a keyed "largest value so far per key" function with value state, under two library
// scenarios: a JobManager crash between a checkpoint's completion and its notification, and a
// JobManager failover at an arbitrary moment. (Pick scenarios whose fault triggers do not name
// the library job's operators, like "sum#2": those would not exist in your job.) Each must reach
// its expected verdict (PASS): exactly-once output equal to the reference interpreter's, restored
// state equal to what was captured, no blob lost, every transaction committed once.
//
// Copy this file, replace BuildJob with your job, pick or write scenarios (docs/scenarios.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "engine/api/job.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace {

using faultline::engine::Collector;
using faultline::engine::KeyedContext;
using faultline::engine::Record;

// Your operator: per key, the largest value seen so far, emitted for every input.
class LargestSoFar final : public faultline::engine::KeyedProcessFunction {
 public:
  void Process(const Record& in, KeyedContext& state, Collector& out) override {
    const std::optional<int64_t> best = state.GetValue("best");
    const int64_t largest = best ? std::max(*best, in.value) : in.value;
    state.SetValue("best", largest);
    out.Emit(Record{state.key(), largest, {}});
  }
};

// Your job. Sources read the partitions of the scenario's source log (source_id 0).
faultline::engine::JobGraph BuildJob() {
  faultline::engine::JobBuilder job("largest-so-far");
  job.Source("source", {.source_id = 0, .parallelism = 4})
      .WithRecordCost(faultline::Duration::Millis(1))
      .Map("triple",
           [](const Record& r) {
             return Record{r.key, r.value * 3, {}};
           })
      .KeyBy([](const Record& r) { return r.key; })
      .Process("largest", std::make_shared<LargestSoFar>())
      .Sink("out", {.kind = faultline::engine::SinkKind::kTwoPhaseCommit});
  auto built = job.Build();
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  return std::move(*built);
}

void ExpectRecovers(const std::string& scenario_file) {
  auto scenario = faultline::scenarios::LoadScenarioFile(scenario_file);
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  auto report = faultline::scenarios::RunJob(BuildJob(), *scenario, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->as_expected()) << faultline::scenarios::FormatReport(*report);
  EXPECT_FALSE(report->recoveries.empty()) << "the fault plan should have forced a recovery";
}

TEST(MyJob, RecoversExactlyOnceFromACrashBetweenCompletionAndNotification) {
  ExpectRecovers(FAULTLINE_SCENARIO_LIBRARY_DIR
                 "/crash_between_completion_and_notification.textproto");
}

TEST(MyJob, RecoversExactlyOnceFromAJobManagerFailover) {
  ExpectRecovers(FAULTLINE_SCENARIO_LIBRARY_DIR "/jobmanager_failover.textproto");
}

}  // namespace
