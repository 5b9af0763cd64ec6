// The property finds a planted engine mistake and shrinks it: with the teaching switch
// offset-after-emit on (a source checkpoints offsets past records it has not emitted), RapidCheck
// falsifies the property over generated cases, and the shrunk case it writes out is small, still
// fails with the switch on, and passes with the switch off (so the switch is what it shows).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "search/harness.h"
#include "search/rc_generators.h"

namespace faultline {
namespace {

TEST(PlantedSwitch, IsFoundAndShrinksToASmallCase) {
  const std::string dir = testing::TempDir() + "/planted_switch";
  std::filesystem::remove_all(dir);
  harness::Options options;
  options.teaching_switches = {"offset-after-emit"};
  options.modes = {0};  // ALIGNED: the switch breaks exactly-once there
  options.reproducer_dir = dir + "/every-failure";
  options.name = "planted";
  const std::string shrunk_file = dir + "/planted.textproto";
  // Its violation part: no checker reports a violation (the INCONCLUSIVE part is not what the
  // switch plants).
  // RapidCheck accepts every failing shrink, so the last violation written is the shrunk case.
  const bool held = rc::check("no violation with offset-after-emit on", [&] {
    const search::GeneratedCase c = *search::gen::Case({.max_faults = 3, .nemesis = false});
    const harness::CaseResult r = harness::CheckCase(c, options);
    const bool violation = r.report.outcome == scenarios::RunReport::Outcome::kViolation;
    if (violation) {
      harness::WriteReproducer(dir, harness::ScenarioForCase(c, options), r.failure, "");
    }
    RC_ASSERT(!violation);
  });
  ASSERT_FALSE(held) << "the planted mistake went unnoticed";

  auto shrunk = scenarios::LoadScenarioFile(shrunk_file);
  ASSERT_TRUE(shrunk.ok()) << shrunk.status().ToString();
  std::printf("shrunk to %d operators, %d fault entries\n", shrunk->spec.job().operators_size(),
              shrunk->spec.faults_size());
  EXPECT_LE(shrunk->spec.faults_size(), 2);
  EXPECT_LE(shrunk->spec.job().operators_size(), 5);  // source, operator, key_by, aggregate, sink
  auto with = scenarios::RunScenario(*shrunk, {});
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  EXPECT_EQ(with->outcome, scenarios::RunReport::Outcome::kViolation)
      << scenarios::FormatReport(*with);

  scenarios::Scenario off = *shrunk;
  off.spec.clear_teaching_switches();
  auto without = scenarios::RunScenario(off, {});
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_NE(without->outcome, scenarios::RunReport::Outcome::kViolation)
      << scenarios::FormatReport(*without);
}

}  // namespace
}  // namespace faultline
