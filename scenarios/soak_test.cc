// Per-seed variation (vary.h) and the soak (soak.h): the draw is a function of the seed, every
// candidate is validated in place, the soak's verdicts do not depend on its thread count, a
// planted engine mistake shows up as grouped failing seeds with their reproduce commands, and a
// scenario that does not expect PASS is refused.
#include "scenarios/soak.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <tuple>

#include "scenarios/loader.h"
#include "scenarios/vary.h"

namespace faultline::scenarios {
namespace {

// A small keyed job under a crash-only nemesis, with checkpoint settings varied per seed.
constexpr std::string_view kSmall = R"pb(
  name: "small_soak"
  run_limit: "60s"
  job {
    parallelism: 2
    operators {
      source { partitions: 2 records_per_partition: 400 keys: 10 value_pattern: CYCLE }
      record_cost: "2ms"
    }
    operators { key_by {} }
    operators {
      name: "sum"
      aggregate { function: "running-sum" }
    }
    operators {
      name: "out"
      sink { kind: TWO_PHASE_COMMIT }
    }
  }
  cluster { task_managers: 2 }
  checkpointing { mode: ALIGNED timeout: "10s" tolerable_failures: 100 }
  restart { fixed_delay { delay: "100ms" } }
  nemesis {
    fault_phase: "600ms"
    quiet_phase: "5s"
    rates { kind: "crash_task_manager" per_minute: 200 }
  }
  vary {
    max_concurrent: [ 1, 2, 3 ]
    retained: [ 1, 3 ]
    interval: [ "50ms", "100ms", "200ms" ]
    channel_credits: [ 1, 2 ]
  }
  checkers: [ "EO-OUT", "EO-CUT", "DUR", "REC", "TXN", "LIVE" ]
)pb";

Scenario Parse(std::string_view text) {
  Result<Scenario> s = ParseScenario(text, "small.textproto");
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? *s : Scenario{};
}

std::string WriteTemp(const std::string& name, std::string_view text) {
  const std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "soak_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

TEST(VaryTest, TheDrawIsAFunctionOfTheSeed) {
  const Scenario s = Parse(kSmall);
  std::set<std::string> draws;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const Varied a = ApplyVary(s.spec, seed);
    const Varied b = ApplyVary(s.spec, seed);
    EXPECT_EQ(a.drawn, b.drawn);
    EXPECT_FALSE(a.spec.has_vary());
    EXPECT_TRUE(ValidateScenario(a.spec).ok()) << a.drawn;
    const uint32_t credits = a.spec.network().channel_credits();
    EXPECT_TRUE(credits == 1 || credits == 2) << a.drawn;
    EXPECT_NE(a.drawn.find("interval " + a.spec.checkpointing().interval()), std::string::npos);
    draws.insert(a.drawn);
  }
  EXPECT_GT(draws.size(), 10u) << "40 seeds should draw many of the 36 combinations";
}

TEST(VaryTest, WithoutVaryTheScenarioIsUnchanged) {
  Scenario s = Parse(kSmall);
  s.spec.clear_vary();
  const Varied v = ApplyVary(s.spec, 7);
  EXPECT_TRUE(v.drawn.empty());
  EXPECT_EQ(v.spec.SerializeAsString(), s.spec.SerializeAsString());
}

TEST(VaryTest, ACandidateMustBeValidInPlaceOfItsSetting) {
  std::string text(kSmall);
  text.replace(text.find("retained: [ 1, 3 ]"), 18, "retained: [ 1, 0 ]");
  Result<Scenario> s = ParseScenario(text, "bad.textproto");
  ASSERT_FALSE(s.ok());
  const std::string message(s.status().message());
  EXPECT_NE(message.find("bad.textproto:"), std::string::npos) << message;
  EXPECT_NE(message.find("vary.retained[1]"), std::string::npos) << message;
  EXPECT_NE(message.find("checkpointing.retained: 0 is outside"), std::string::npos) << message;
}

TEST(SoakTest, TheVerdictsDoNotDependOnTheThreadCount) {
  const std::string file = WriteTemp("small.textproto", kSmall);
  SoakOptions options{.files = {file}, .first_seed = 11, .seeds = 6, .jobs = 1};
  Result<SoakReport> one = RunSoak(options);
  ASSERT_TRUE(one.ok()) << one.status().message();
  options.jobs = 2;
  Result<SoakReport> two = RunSoak(options);
  ASSERT_TRUE(two.ok()) << two.status().message();
  ASSERT_EQ(one->scenarios.size(), 1u);
  EXPECT_EQ(one->runs(), 6u);
  EXPECT_EQ(one->scenarios[0].pass, two->scenarios[0].pass);
  EXPECT_EQ(one->scenarios[0].violation, two->scenarios[0].violation);
  EXPECT_EQ(one->failures.size(), two->failures.size());
  // A correct engine under crashes: every seed passes.
  EXPECT_TRUE(one->clean()) << FormatSoakReport(*one, 10);
  EXPECT_NE(FormatSoakReport(*one, 10).find("CLEAN"), std::string::npos);
}

TEST(SoakTest, APlantedMistakeIsReportedAsGroupedSeedsWithTheirCommands) {
  std::string text(kSmall);
  text += "teaching_switches: [\"offset-after-emit\"]\n";
  const std::string file = WriteTemp("planted.textproto", text);
  Result<SoakReport> report = RunSoak({.files = {file}, .first_seed = 1, .seeds = 6, .jobs = 2});
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_FALSE(report->clean());
  EXPECT_GT(report->scenarios[0].violation, 0u);
  const std::string out = FormatSoakReport(*report, 3);
  EXPECT_NE(out.find("group        "), std::string::npos) << out;
  EXPECT_NE(out.find("x VIOLATION EO-OUT"), std::string::npos) << out;
  const SoakFailure& first = report->failures.front();
  EXPECT_EQ(first.reproduce, "faultline run " + file + " --seed " + std::to_string(first.seed));
  EXPECT_FALSE(first.varied.empty());
  EXPECT_NE(SoakReportJson(*report).find("\"reproduce\""), std::string::npos);
}

// Runs in worker processes (the default: a run that crashes is a failing run, not the end of the
// soak) report exactly what runs on threads do.
TEST(SoakTest, IsolationDoesNotChangeTheReport) {
  std::string text(kSmall);
  text += "teaching_switches: [\"offset-after-emit\"]\n";
  const std::string file = WriteTemp("planted_isolated.textproto", text);
  SoakOptions options{.files = {file}, .first_seed = 1, .seeds = 6, .jobs = 2};
  Result<SoakReport> isolated = RunSoak(options);
  options.isolate = false;
  Result<SoakReport> threads = RunSoak(options);
  ASSERT_TRUE(isolated.ok() && threads.ok());
  EXPECT_TRUE(isolated->isolated);
  EXPECT_FALSE(threads->isolated);
  const SoakScenario& a = isolated->scenarios.at(0);
  const SoakScenario& b = threads->scenarios.at(0);
  EXPECT_EQ(a.pass, b.pass);
  EXPECT_EQ(a.violation, b.violation);
  EXPECT_EQ(a.inconclusive_explained, b.inconclusive_explained);
  EXPECT_EQ(a.inconclusive_unexplained, b.inconclusive_unexplained);
  EXPECT_EQ(a.errors, b.errors);
  EXPECT_EQ(a.crashes, 0u);
  EXPECT_EQ(a.explained, b.explained);
  EXPECT_EQ(a.simulated_seconds, b.simulated_seconds);
  ASSERT_EQ(isolated->failures.size(), threads->failures.size());
  ASSERT_FALSE(isolated->failures.empty());
  for (size_t i = 0; i < isolated->failures.size(); ++i) {
    const SoakFailure& x = isolated->failures[i];
    const SoakFailure& y = threads->failures[i];
    EXPECT_EQ(std::tie(x.file, x.seed, x.group, x.detail, x.varied, x.reproduce),
              std::tie(y.file, y.seed, y.group, y.detail, y.varied, y.reproduce));
  }
}

TEST(SoakTest, RefusesAScenarioThatDoesNotExpectPass) {
  std::string text(kSmall);
  text += "expect { verdict: VIOLATION checker: \"EO-OUT\" }\n";
  const std::string file = WriteTemp("expects_violation.textproto", text);
  Result<SoakReport> report = RunSoak({.files = {file}, .seeds = 2});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(std::string(report.status().message()).find("expect PASS"), std::string::npos);
  EXPECT_FALSE(RunSoak({.files = {WriteTemp("missing/none.textproto", "")}, .seeds = 1}).ok());
}

}  // namespace
}  // namespace faultline::scenarios
