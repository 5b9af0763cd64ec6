#include "search/explore.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/assert.h"
#include "scenarios/loader.h"

namespace faultline::search {
namespace {

TEST(ShardTest, ShardsCoverTheRangeInContiguousBlocks) {
  for (uint64_t seeds : {1u, 2u, 7u, 100u, 1001u}) {
    for (uint32_t n : {1u, 2u, 3u, 8u}) {
      uint64_t next = 5;
      for (uint32_t k = 1; k <= n; ++k) {
        const SeedRange r = ShardRange(5, seeds, Shard{k, n});
        EXPECT_EQ(r.first, next) << seeds << " " << k << "/" << n;
        next = r.first + r.count;
      }
      EXPECT_EQ(next, 5 + seeds);
    }
  }
}

TEST(ShardTest, ParsesKOfN) {
  ASSERT_TRUE(ParseShard("2/3").ok());
  EXPECT_EQ(ParseShard("2/3")->index, 2u);
  EXPECT_EQ(ParseShard("2/3")->count, 3u);
  for (const char* bad : {"", "3", "0/2", "3/2", "1/0", "a/2", "1/2/3", "-1/2", "1/ 2"}) {
    EXPECT_FALSE(ParseShard(bad).ok()) << bad;
  }
}

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

ExploreOptions AlignedSoak(uint64_t seeds) {
  ExploreOptions o;
  o.source = ScenarioFileSource(Soak("aligned.textproto"));
  o.source_label = "aligned";
  o.first_seed = 11;
  o.seeds = seeds;
  return o;
}

// The output is a function of the seed range: the same lines whatever the thread count, and the
// shards' outputs concatenated in shard order are the unsharded output.
TEST(ExploreTest, ThreadsAndShardsDoNotChangeTheOutput) {
  ExploreOptions one = AlignedSoak(6);
  one.jobs = 1;
  const Explored single = ExploreAll(one);
  ASSERT_EQ(single.lines.size(), 6u);
  EXPECT_EQ(single.report.done, 6u);
  ExploreOptions two = AlignedSoak(6);
  two.jobs = 2;
  EXPECT_EQ(ExploreAll(two).lines, single.lines);
  std::vector<std::string> merged;
  for (uint32_t k = 1; k <= 4; ++k) {  // 6 seeds in 4 shards: blocks of 1 or 2
    ExploreOptions shard = AlignedSoak(6);
    shard.jobs = 2;
    shard.shard = Shard{k, 4};
    const Explored part = ExploreAll(shard);
    merged.insert(merged.end(), part.lines.begin(), part.lines.end());
  }
  EXPECT_EQ(merged, single.lines);
}

// Isolation (each run in a worker process) changes nothing in the output.
TEST(ExploreTest, IsolationDoesNotChangeTheOutput) {
  ExploreOptions isolated = AlignedSoak(4);
  isolated.jobs = 2;
  ExploreOptions threads = isolated;
  threads.isolate = false;
  const Explored a = ExploreAll(isolated);
  ASSERT_EQ(a.lines.size(), 4u);
  EXPECT_EQ(a.lines, ExploreAll(threads).lines);
  for (const std::string& line : a.lines) {  // and every line reads back as it was
    Result<SeedResult> r = ParseSeedResultJson(line);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(SeedResultJson(*r), line);
  }
  EXPECT_FALSE(ParseSeedResultJson("{\"seed\": 1}").ok());
  EXPECT_FALSE(ParseSeedResultJson("not json").ok());
}

// A run that crashes (here the case source fails an assertion at seeds 12 and 14) is a finding:
// the exploration goes on, and the crashes group by the assertion they failed.
TEST(ExploreTest, ACrashIsAFindingNotTheEnd) {
  ExploreOptions o = AlignedSoak(5);
  o.jobs = 2;
  const scenarios::Scenario aligned = Soak("aligned.textproto");
  o.source = [aligned](uint64_t seed) -> Result<scenarios::Scenario> {
    FL_ASSERT(seed != 12 && seed != 14, "seeds 12 and 14 crash");
    return aligned;
  };
  const Explored e = ExploreAll(o);
  ASSERT_EQ(e.lines.size(), 5u);
  EXPECT_EQ(e.report.done, 5u);
  EXPECT_EQ(e.report.outcomes.at("CRASH"), 2u);
  ASSERT_EQ(e.report.groups.size(), 1u) << FormatExploreReport(e.report);
  const FailureGroup& g = e.report.groups.front();
  EXPECT_EQ(g.seeds, (std::vector<uint64_t>{12, 14}));
  EXPECT_EQ(g.what.rfind("CRASH: ", 0), 0u) << g.what;
  EXPECT_NE(g.what.find("assertion failed: seed != 12 && seed != 14 (seeds 12 and 14 crash)"),
            std::string::npos)
      << g.what;
  // The seeds that did not crash ran as they do anywhere.
  const Explored plain = ExploreAll(AlignedSoak(5));
  for (size_t i : {0u, 2u, 4u}) EXPECT_EQ(e.lines[i], plain.lines[i]) << i;
  Result<SeedResult> crash = ParseSeedResultJson(e.lines[1]);
  ASSERT_TRUE(crash.ok());
  EXPECT_EQ(crash->outcome, "CRASH");
  EXPECT_TRUE(crash->failing);
  EXPECT_NE(crash->detail.find("the run crashed (SIGABRT)"), std::string::npos) << crash->detail;
  EXPECT_NE(FormatExploreReport(e.report).find("CRASH"), std::string::npos);
}

// With the switch off the soak's seeds are clean; with offset-after-emit on, every seed fails and
// the failures group by checker and property, not by seed.
TEST(ExploreTest, FailuresGroupByWhatWentWrong) {
  const Explored clean = ExploreAll(AlignedSoak(4));
  EXPECT_TRUE(clean.report.clean()) << FormatExploreReport(clean.report);
  EXPECT_EQ(clean.report.marker_hits[static_cast<size_t>(checkers::Marker::kCheckpointCompleted)],
            4u);

  ExploreOptions planted = AlignedSoak(8);
  planted.switches = {"offset-after-emit"};
  const Explored found = ExploreAll(planted);
  EXPECT_FALSE(found.report.clean());
  EXPECT_EQ(found.report.failing, 8u) << FormatExploreReport(found.report);
  uint64_t grouped = 0;
  for (const FailureGroup& g : found.report.groups) {
    EXPECT_EQ(g.what.rfind("VIOLATION ", 0), 0u) << g.what;
    EXPECT_NE(g.first_reproduce.find("--switch offset-after-emit"), std::string::npos);
    grouped += g.seeds.size();
  }
  EXPECT_EQ(grouped, 8u);
  EXPECT_LT(found.report.groups.size(), 4u);
}

// A switch that does not apply to a case's mode skips the case; it is not a failure.
TEST(ExploreTest, ASwitchForAnotherModeSkipsTheCase) {
  ExploreOptions o;
  o.source = ScenarioFileSource(Soak("unaligned.textproto"));
  o.seeds = 2;
  o.switches = {"no-alignment"};
  const Explored e = ExploreAll(o);
  EXPECT_EQ(e.report.outcomes.at("SKIPPED"), 2u);
  EXPECT_TRUE(e.report.clean());
}

TEST(ExploreTest, TheDetSampleRerunsEveryNthSeed) {
  ExploreOptions o = AlignedSoak(4);
  o.det_every = 2;
  const Explored e = ExploreAll(o);
  EXPECT_EQ(e.report.det_checked, 2u);
  EXPECT_TRUE(e.report.det_mismatches.empty());
  EXPECT_NE(e.lines[0].find("rerun_hash"), std::string::npos);  // seed 11: 11 - 11 = 0
  EXPECT_EQ(e.lines[1].find("rerun_hash"), std::string::npos);
}

TEST(ExploreTest, ATimeBudgetStopsStartingSeeds) {
  ExploreOptions o = AlignedSoak(50);
  o.jobs = 1;
  o.time_budget_seconds = 1e-9;
  const Explored e = ExploreAll(o);
  EXPECT_TRUE(e.report.budget_exhausted);
  EXPECT_LT(e.report.done, 50u);
  EXPECT_EQ(e.lines.size(), e.report.done);
}

TEST(ExploreTest, RefusesBadRanges) {
  ExploreOptions o = AlignedSoak(0);
  EXPECT_FALSE(Explore(o).ok());
  o.seeds = 2;
  o.first_seed = UINT64_MAX;
  EXPECT_FALSE(Explore(o).ok());
  o.first_seed = 1;
  o.source = nullptr;
  EXPECT_FALSE(Explore(o).ok());
}

}  // namespace
}  // namespace faultline::search
