// The output store's transaction timeout (Kafka's transaction.timeout.ms) on the library's two
// scenarios: shorter than an outage plus recovery, the store aborts checkpoint 3's pre-committed
// transactions, the engine reports each (engine event transaction-expired) and EO-OUT sees the
// loss; long enough, nothing expires and the run passes.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

#include "engine/exec/events.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "simulator/trace.h"

namespace faultline {
namespace {

// The transactions the engine reported expired, and those the output store committed.
class Expired : public sim::TraceObserver {
 public:
  void OnRecord(const sim::TraceRecord& r) override {
    if (r.kind == sim::TraceKind::kServiceReply &&
        r.args[0] == static_cast<int64_t>(sim::Service::kOutputStore) &&
        r.args[1] == static_cast<int64_t>(sim::ServiceOp::kCommit) && r.args[3] == 0) {
      committed.insert(r.detail);
      return;
    }
    std::optional<sim::EngineEventView> e = sim::EngineEventOf(r);
    if (!e || e->event != engine::EngineEvent::kTransactionExpired) return;
    expired.insert(r.detail);
    checkpoints.insert(static_cast<uint64_t>(*e->args.checkpoint));
  }
  std::set<std::string> expired, committed;
  std::set<uint64_t> checkpoints;
};

Result<scenarios::RunReport> RunLibrary(const std::string& name, Expired& expired) {
  FL_ASSIGN_OR_RETURN(scenarios::Scenario scenario,
                      scenarios::LoadScenarioFile(std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) +
                                                  "/" + name + ".textproto"));
  scenarios::RunOptions options;
  options.trace_observer = &expired;
  return scenarios::RunScenario(scenario, options);
}

TEST(TransactionTimeoutTest, TooShortTheEngineReportsTheLossAndEoOutSeesIt) {
  Expired expired;
  auto report = RunLibrary("transaction_timeout_too_short", expired);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  // Every sink subtask's transaction of checkpoint 3, reported once each, never committed.
  EXPECT_EQ(expired.expired.size(), 4u);
  EXPECT_EQ(expired.checkpoints, std::set<uint64_t>{3});
  for (const std::string& txn : expired.expired) EXPECT_FALSE(expired.committed.count(txn)) << txn;
  EXPECT_EQ(report->outcome, scenarios::RunReport::Outcome::kViolation);
  EXPECT_EQ(report->outcome_detail.substr(0, 6), "EO-OUT") << report->outcome_detail;
  EXPECT_LT(report->committed_records, report->source_records);
  EXPECT_EQ(report->status, engine::JobStatus::kFinished) << "the job goes on, as Flink's";
  EXPECT_TRUE(report->as_expected()) << scenarios::FormatReport(*report);
}

TEST(TransactionTimeoutTest, LongEnoughNothingExpires) {
  Expired expired;
  auto report = RunLibrary("transaction_timeout_long_enough", expired);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(expired.expired.empty());
  EXPECT_FALSE(report->recoveries.empty()) << "the outage made the job recover";
  EXPECT_EQ(report->outcome, scenarios::RunReport::Outcome::kPass)
      << scenarios::FormatReport(*report);
  EXPECT_EQ(report->committed_records, report->source_records);
}

}  // namespace
}  // namespace faultline
