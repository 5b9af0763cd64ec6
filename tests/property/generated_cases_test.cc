// Generated cases are not trivially small and not trivially quiet: over a sample of seeds
// (FAULTLINE_STATS_CASES, default kDefaultCases) run with scenarios::RunScenario, the median
// case reads enough records, and at least 85% complete 3 checkpoints or more and inject at least
// one fault, and at least 4% fence a zombie (coverage marker zombie-fenced). The statistics are
// printed (docs/property_tests.md quotes them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "search/generators.h"
#include "search/harness.h"  // Holds

namespace faultline {
namespace {

constexpr uint64_t kDefaultCases = 200;

uint64_t Cases() {
  const char* env = std::getenv("FAULTLINE_STATS_CASES");
  const uint64_t n = env != nullptr ? std::strtoull(env, nullptr, 10) : 0;
  return n > 0 ? n : kDefaultCases;
}

TEST(GeneratedCases, AreNotTriviallySmall) {
  const uint64_t cases = Cases();
  std::vector<uint64_t> records;
  uint64_t three_checkpoints = 0, fault_fired = 0, holds = 0, zombie_fenced = 0;
  double wall = 0, simulated = 0;
  std::map<std::string, int> outcomes;
  for (uint64_t seed = 1; seed <= cases; ++seed) {
    const search::proto::Scenario spec = search::GenerateScenario(seed, {});
    auto scenario = scenarios::ParseScenario(search::ToTextproto(spec), spec.name());
    ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
    auto report = scenarios::RunScenario(*scenario, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString() << "\n" << search::ToTextproto(spec);
    std::string why;
    holds += harness::Holds(report, &why);  // the property itself is property_test's to judge
    records.push_back(report->source_records);
    const auto completed =
        std::count_if(report->checkpoints.begin(), report->checkpoints.end(), [](const auto& c) {
          return c.outcome == scenarios::CheckpointRecord::Outcome::kCompleted;
        });
    three_checkpoints += completed >= 3;
    fault_fired += !report->faults.empty();
    const std::vector<std::string>& m = report->markers;
    zombie_fenced += std::find(m.begin(), m.end(), "zombie-fenced") != m.end();
    wall += report->wall_seconds;
    simulated += (report->ended - Time::Zero()).seconds();
    outcomes[std::string(scenarios::OutcomeName(report->outcome))]++;
  }
  std::sort(records.begin(), records.end());
  const uint64_t median = records[records.size() / 2];
  std::printf(
      "generated cases: %llu; median source records %llu; >= 3 completed checkpoints in "
      "%.0f%%; a fault fired in %.0f%%; mean %.1f s simulated, %.2f s wall per case\n",
      static_cast<unsigned long long>(cases), static_cast<unsigned long long>(median),
      100.0 * static_cast<double>(three_checkpoints) / static_cast<double>(cases),
      100.0 * static_cast<double>(fault_fired) / static_cast<double>(cases),
      simulated / static_cast<double>(cases), wall / static_cast<double>(cases));
  for (const auto& [outcome, n] : outcomes) std::printf("  %s: %d\n", outcome.c_str(), n);
  std::printf("  the property holds in %llu\n", static_cast<unsigned long long>(holds));
  std::printf("  a zombie fenced in %llu\n", static_cast<unsigned long long>(zombie_fenced));
  EXPECT_GE(median, 1000u);
  EXPECT_GE(three_checkpoints * 100, cases * 85);  // >= 85%
  EXPECT_GE(fault_fired * 10, cases * 7);          // >= 70%
  // The generated stories cut attempts off with output calls in flight (search/rc_generators.cc):
  // about 10% of cases fence a zombie.
  EXPECT_GE(zombie_fenced * 100, cases * 4);  // >= 4%
}

}  // namespace
}  // namespace faultline
