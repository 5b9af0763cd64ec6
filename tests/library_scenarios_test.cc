// Every scenario of the library (scenarios/library) reaches its expected verdict; every
// teaching-switch scenario passes with its switch turned off; and a scenario run twice with the
// same seed gives the same trace hash.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "tests/support/library_files.h"

namespace faultline {
namespace {

std::vector<std::string> LibraryFiles() {
  return testing_support::LibraryFiles(FAULTLINE_SCENARIO_LIBRARY_DIR);
}

class LibraryScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LibraryScenarioTest, ReachesItsExpectedVerdict) {
  auto scenario = scenarios::LoadScenarioFile(GetParam());
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  auto report = scenarios::RunScenario(*scenario, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->as_expected()) << scenarios::FormatReport(*report);
  EXPECT_TRUE(report->fault_plan_unfired.empty()) << scenarios::FormatReport(*report);

  if (scenario->spec.teaching_switches().empty()) return;
  // The same run without the switch passes.
  scenarios::Scenario off = *scenario;
  off.spec.clear_teaching_switches();
  off.spec.mutable_expect()->set_verdict(scenarios::proto::Expectation::PASS);
  off.spec.mutable_expect()->clear_checker();
  auto clean = scenarios::RunScenario(off, {});
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  EXPECT_TRUE(clean->as_expected()) << "with the switch off:\n" << scenarios::FormatReport(*clean);
}

INSTANTIATE_TEST_SUITE_P(Library, LibraryScenarioTest, ::testing::ValuesIn(LibraryFiles()),
                         [](const auto& param_info) {
                           return testing_support::LibraryTestName(param_info.param);
                         });

// The swarm nemesis over many seeds (FAULTLINE_SEEDS=N for more than the 20 of CI): every seed
// keeps exactly-once and finishes.
TEST(LibrarySwarmTest, EverySeedPasses) {
  const char* env = std::getenv("FAULTLINE_SEEDS");
  const uint64_t seeds =
      env != nullptr && std::strtoull(env, nullptr, 10) > 0 ? std::strtoull(env, nullptr, 10) : 20;
  auto scenario = scenarios::LoadScenarioFile(std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) +
                                              "/nemesis_swarm.textproto");
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    scenarios::RunOptions options;
    options.seed = seed;
    auto report = scenarios::RunScenario(*scenario, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_TRUE(report->as_expected()) << scenarios::FormatReport(*report);
  }
}

TEST(LibraryDeterminismTest, SameSeedSameTraceHash) {
  auto scenario = scenarios::LoadScenarioFile(std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) +
                                              "/crash_during_alignment.textproto");
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  scenarios::RunOptions options;
  options.seed = 11;
  auto first = scenarios::RunScenario(*scenario, options);
  auto second = scenarios::RunScenario(*scenario, options);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->trace_hash, second->trace_hash);
  options.seed = 12;
  auto other = scenarios::RunScenario(*scenario, options);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(first->trace_hash, other->trace_hash);
}

}  // namespace
}  // namespace faultline
