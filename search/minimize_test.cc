// Minimization on a planted bug: the aligned soak scenario with offset-after-emit (the source
// records its offset after emitting) fails at seed 20 with 13 faults drawn by its nemesis. The
// result must replay to the same failure with the same trace hash, be 1-minimal (checked here
// independently: dropping any one remaining fault loses the failure), and be small.
#include "search/minimize.h"

#include <gtest/gtest.h>

#include <string>

#include "scenarios/runner.h"
#include "scenarios/soak.h"

namespace faultline::search {
namespace {

constexpr uint64_t kSeed = 20;

scenarios::Scenario AlignedSoak() {
  Result<scenarios::Scenario> s =
      scenarios::LoadScenarioFile(std::string(FAULTLINE_SOAK_DIR) + "/aligned.textproto");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

std::string GroupOf(const proto::Scenario& spec) {
  scenarios::RunOptions run;
  run.seed = kSeed;
  run.switches = {"offset-after-emit"};
  Result<scenarios::RunReport> r = scenarios::RunScenario({"minimize_test", spec}, run);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? scenarios::FailureGroupOf(*r) : "";
}

TEST(MinimizeTest, APlantedBugShrinksToAOneMinimalReplayableReproducer) {
  const scenarios::Scenario soak = AlignedSoak();
  MinimizeOptions options;
  options.seed = kSeed;
  options.switches = {"offset-after-emit"};
  Result<MinimizeResult> m = Minimize(soak, options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  for (const std::string& step : m->steps) std::printf("  %s\n", step.c_str());

  EXPECT_GE(m->entries_before, 10u);
  EXPECT_TRUE(m->made_explicit);
  EXPECT_TRUE(m->explicit_same_hash) << "the nemesis as plan entries must be the same run";
  EXPECT_TRUE(m->one_minimal);
  EXPECT_LE(m->entries_after, 3u);
  EXPECT_LE(m->reruns, options.max_reruns);
  EXPECT_FALSE(m->minimized.has_nemesis());
  EXPECT_EQ(m->group.rfind("VIOLATION ", 0), 0u) << m->group;

  // 1-minimal, checked here: the result fails the same way; without any one fault it does not.
  EXPECT_EQ(GroupOf(m->minimized), m->group);
  for (int i = 0; i < m->minimized.faults_size(); ++i) {
    proto::Scenario without = m->minimized;
    without.mutable_faults()->DeleteSubrange(i, 1);
    EXPECT_NE(GroupOf(without), m->group) << "fault " << m->minimized.faults(i).name();
  }

  // The reproducer file replays by itself (seed and switch written in) to the same failure, as
  // its expectation says, with the trace hash it records.
  const std::string text = ReproducerText(*m, soak.path);
  Result<scenarios::Scenario> repro = scenarios::ParseScenario(text, "repro.textproto");
  ASSERT_TRUE(repro.ok()) << repro.status().ToString() << "\n" << text;
  Result<scenarios::RunReport> replay = scenarios::RunScenario(*repro, {});
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->as_expected()) << scenarios::FormatReport(*replay);
  EXPECT_EQ(scenarios::FailureGroupOf(*replay), m->group);
  EXPECT_EQ(replay->trace_hash, m->minimized_hash);
}

// Reruns in a worker process (the default, so a crashing candidate cannot end the minimization)
// minimize exactly as reruns in this process do.
TEST(MinimizeTest, IsolatedRerunsMinimizeAsInProcessOnes) {
  MinimizeOptions options;
  options.seed = kSeed;
  options.switches = {"offset-after-emit"};
  options.max_reruns = 60;
  Result<MinimizeResult> isolated = Minimize(AlignedSoak(), options);
  options.isolate = false;
  Result<MinimizeResult> here = Minimize(AlignedSoak(), options);
  ASSERT_TRUE(isolated.ok()) << isolated.status().ToString();
  ASSERT_TRUE(here.ok()) << here.status().ToString();
  EXPECT_EQ(isolated->steps, here->steps);
  EXPECT_EQ(isolated->minimized.SerializeAsString(), here->minimized.SerializeAsString());
  EXPECT_EQ(isolated->original_hash, here->original_hash);
  EXPECT_EQ(isolated->minimized_hash, here->minimized_hash);
  EXPECT_TRUE(isolated->explicit_same_hash);
}

TEST(MinimizeTest, ARunThatDoesNotFailIsRefused) {
  MinimizeOptions options;
  options.seed = kSeed;
  Result<MinimizeResult> m = Minimize(AlignedSoak(), options);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace faultline::search
