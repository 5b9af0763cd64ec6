#include "search/guided.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "base/rng.h"
#include "scenarios/loader.h"
#include "scenarios/soak.h"
#include "search/minimize.h"
#include "search/mutate.h"

namespace faultline::search {
namespace {

scenarios::Scenario Soak(const std::string& name) {
  Result<scenarios::Scenario> s =
      scenarios::LoadScenarioFile(std::string(FAULTLINE_SOAK_DIR) + "/" + name);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

struct Explored {
  ExploreReport report;
  std::vector<std::string> lines;
};

Explored ExploreAll(ExploreOptions options) {
  Explored out;
  options.on_result = [&out](const SeedResult& r) { out.lines.push_back(SeedResultJson(r)); };
  Result<ExploreReport> report = Explore(options);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  if (report.ok()) out.report = *report;
  return out;
}

ExploreOptions GuidedOn(const scenarios::Scenario& scenario, uint64_t runs) {
  ExploreOptions o;
  o.source = ScenarioFileSource(scenario);
  o.seeds = runs;
  o.guided = true;
  o.guided_options.generation = 12;
  o.guided_options.mutant_dir = ::testing::TempDir();
  return o;
}

TEST(GuidedTest, TheSameRunWhateverTheThreadCount) {
  ExploreOptions o = GuidedOn(Soak("aligned.textproto"), 40);
  o.jobs = 1;
  const Explored one = ExploreAll(o);
  o.jobs = 3;
  const Explored three = ExploreAll(o);
  ASSERT_TRUE(one.report.guided);
  EXPECT_GT(one.report.guided->mutants, 0u);
  EXPECT_EQ(one.report.done, 40u);
  EXPECT_EQ(one.lines, three.lines);
  EXPECT_NE(one.lines.back().find("\"mutant_of\""), std::string::npos) << one.lines.back();
}

TEST(GuidedTest, RefusesShards) {
  ExploreOptions o = GuidedOn(Soak("aligned.textproto"), 10);
  o.shard = Shard{1, 2};
  EXPECT_FALSE(Explore(o).ok());
}

// Mutants of the explicit plans of real runs: every one is a valid scenario that differs from
// its parent, and every kind of mutation occurs.
TEST(GuidedTest, EveryMutantIsAValidScenario) {
  const scenarios::Scenario soak = Soak("aligned.textproto");
  std::set<std::string> kinds;
  Rng rng(7);
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    std::vector<faults::PlanEntry> fired;
    RunCase(soak, seed, {}, false, &fired);
    Result<proto::Scenario> parent = ExplicitScenario(soak.spec, seed, fired);
    ASSERT_TRUE(parent.ok()) << parent.status().ToString();
    ASSERT_FALSE(parent->has_nemesis());
    for (int i = 0; i < 60; ++i) {
      std::optional<Mutant> m = Mutate(*parent, 6000, "t" + std::to_string(i), rng);
      ASSERT_TRUE(m.has_value());
      EXPECT_TRUE(scenarios::ValidateScenario(m->spec).ok());
      EXPECT_NE(m->spec.SerializeAsString(), parent->SerializeAsString()) << m->mutations[0];
      for (const std::string& what : m->mutations) kinds.insert(what.substr(0, what.find(' ')));
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"add", "duration", "remove", "retarget", "shift"}));
}

// A real measurement: with the same number of runs, guided exploration reaches the markers that
// are rare among plain seeds (hit by at most 5% of them) more often than plain seeds do.
TEST(GuidedTest, ReachesMarkersRareAmongPlainSeedsMoreOften) {
  constexpr uint64_t kRuns = 120;
  const scenarios::Scenario soak = Soak("aligned.textproto");
  ExploreOptions plain;
  plain.source = ScenarioFileSource(soak);
  plain.seeds = kRuns;
  plain.jobs = 2;
  const Explored p = ExploreAll(plain);
  ExploreOptions guided = GuidedOn(soak, kRuns);
  guided.jobs = 2;
  const Explored g = ExploreAll(guided);
  ASSERT_EQ(p.report.done, kRuns);
  ASSERT_EQ(g.report.done, kRuns);
  uint64_t plain_rare = 0;
  uint64_t guided_rare = 0;
  std::string rare;
  for (checkers::Marker m : checkers::kAllMarkers) {
    const uint64_t hits = p.report.marker_hits[static_cast<size_t>(m)];
    const uint64_t guided_hits = g.report.marker_hits[static_cast<size_t>(m)];
    if (hits * 20 > kRuns || (hits == 0 && guided_hits == 0)) continue;
    plain_rare += hits;
    guided_rare += guided_hits;
    rare += std::string(checkers::MarkerName(m)) + " " + std::to_string(hits) + " -> " +
            std::to_string(guided_hits) + "; ";
  }
  ASSERT_FALSE(rare.empty());
  EXPECT_GT(guided_rare, 2 * plain_rare) << rare;
}

// A failing mutant's file, written as the CLI writes it, replays the failure by itself: the run
// of the loaded file at the seed written in it (no switch given) fails the same way, with the
// trace hash of the mutant's run.
TEST(GuidedTest, AFailingMutantIsReproducedByItsFileAlone) {
  ExploreOptions o = GuidedOn(Soak("aligned.textproto"), 48);
  o.switches = {"drop-subsumed-commit"};
  o.jobs = 2;
  const Explored e = ExploreAll(o);
  ASSERT_TRUE(e.report.guided);
  ASSERT_FALSE(e.report.guided->failing_mutants.empty());
  const FailingMutant& m = e.report.guided->failing_mutants.front();
  const std::string path = ::testing::TempDir() + "/guided_mutant.textproto";
  {
    std::ofstream out(path, std::ios::trunc);
    out << MutantText(m);
  }
  Result<scenarios::Scenario> loaded = scenarios::LoadScenarioFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE(loaded->spec.has_seed());
  EXPECT_EQ(loaded->spec.seed(), m.seed);
  scenarios::RunOptions run;
  run.seed = loaded->spec.seed();
  Result<scenarios::RunReport> report = scenarios::RunScenario(*loaded, run);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(scenarios::FailureGroupOf(*report), m.group);
  const std::string& line = e.lines[m.run - 1];
  char hash[32];
  std::snprintf(hash, sizeof hash, "\"trace_hash\":\"%016llx\"",
                static_cast<unsigned long long>(report->trace_hash));
  EXPECT_NE(line.find(hash), std::string::npos) << line;
  EXPECT_NE(line.find("\"mutant_of\""), std::string::npos) << line;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace faultline::search
