// The scenario library (scenarios/library) with every keyed state on RocksDB
// (checkpointing.backend: ROCKSDB), with full snapshots and with incremental checkpoints: each
// scenario reaches the verdict it expects with the heap backend, teaching switches included
// (full snapshots write the keyed-state format; the checkers read an incremental one's files),
// and a run twice with one seed gives one trace hash.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "tests/support/library_files.h"

namespace faultline {
namespace {

scenarios::Scenario OnRocksDb(scenarios::Scenario scenario) {
  scenario.spec.mutable_checkpointing()->set_backend(scenarios::proto::Checkpointing::ROCKSDB);
  return scenario;
}

class RocksDbLibraryTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RocksDbLibraryTest, ReachesItsExpectedVerdict) {
  auto scenario = scenarios::LoadScenarioFile(GetParam());
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  auto report = scenarios::RunScenario(OnRocksDb(*scenario), {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->as_expected()) << scenarios::FormatReport(*report);
}

// The same with incremental checkpoints, compacting at every other checkpoint: the checkers read
// the SST files of each checkpoint (checkers/incremental_state.h).
scenarios::Scenario OnRocksDbIncremental(scenarios::Scenario scenario) {
  scenarios::proto::Checkpointing* c = scenario.spec.mutable_checkpointing();
  c->set_backend(scenarios::proto::Checkpointing::ROCKSDB);
  c->set_incremental(true);
  if (!c->has_compaction_trigger()) c->set_compaction_trigger(2);
  return scenario;
}

class RocksDbIncrementalLibraryTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RocksDbIncrementalLibraryTest, ReachesItsExpectedVerdict) {
  auto scenario = scenarios::LoadScenarioFile(GetParam());
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  auto report = scenarios::RunScenario(OnRocksDbIncremental(*scenario), {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->as_expected()) << scenarios::FormatReport(*report);
}

INSTANTIATE_TEST_SUITE_P(
    Library, RocksDbIncrementalLibraryTest,
    ::testing::ValuesIn(testing_support::LibraryFiles(FAULTLINE_SCENARIO_LIBRARY_DIR)),
    [](const auto& param_info) { return testing_support::LibraryTestName(param_info.param); });

INSTANTIATE_TEST_SUITE_P(
    Library, RocksDbLibraryTest,
    ::testing::ValuesIn(testing_support::LibraryFiles(FAULTLINE_SCENARIO_LIBRARY_DIR)),
    [](const auto& param_info) { return testing_support::LibraryTestName(param_info.param); });

TEST(RocksDbDeterminismTest, SameSeedSameTraceHashAndTheDiskIsInIt) {
  auto scenario = scenarios::LoadScenarioFile(std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) +
                                              "/crash_during_alignment.textproto");
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  scenarios::RunOptions options;
  options.seed = 11;
  auto heap = scenarios::RunScenario(*scenario, options);
  auto first = scenarios::RunScenario(OnRocksDb(*scenario), options);
  auto second = scenarios::RunScenario(OnRocksDb(*scenario), options);
  ASSERT_TRUE(heap.ok() && first.ok() && second.ok());
  EXPECT_EQ(first->trace_hash, second->trace_hash);
  // RocksDB's files are on the simulated disk, whose operations are in the trace.
  EXPECT_NE(first->trace_hash, heap->trace_hash);
}

}  // namespace
}  // namespace faultline
