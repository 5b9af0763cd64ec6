#include "search/generators.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "faults/fault_kinds.h"
#include "scenarios/loader.h"
#include "search/rc_generators.h"

namespace faultline::search {
namespace {

constexpr uint64_t kSeeds = 400;

// Written out and read back as a scenario file: the loader (as `faultline check`) accepts it.
void ExpectValid(const proto::Scenario& s) {
  const std::string text = ToTextproto(s);
  auto parsed = scenarios::ParseScenario(text, s.name() + ".textproto");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << text;
}

TEST(Generators, EverySeedGivesAValidScenario) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    ExpectValid(GenerateScenario(seed, {}));
  }
}

// Every fault kind, mode, sink kind, partitioner, operator kind and trigger form is generated.
TEST(Generators, CoverEverythingAScenarioCanSay) {
  std::set<std::string> fault_kinds, rate_kinds, events;
  std::set<int> modes, sinks, inputs, restarts, backends;
  std::set<std::string> operator_kinds;
  bool at = false, subtask = false, unaligned_flag = false, aligned_timeout = false;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const proto::Scenario s = GenerateScenario(seed, {});
    for (const proto::Fault& f : s.faults()) {
      fault_kinds.insert(f.GetDescriptor()->FindFieldByNumber(f.kind_case())->name());
      if (f.trigger().has_on()) events.insert(f.trigger().on().event());
      at |= !f.trigger().at().empty();
      subtask |= !f.trigger().on().subtask().empty();
    }
    for (const proto::Rate& r : s.nemesis().rates()) rate_kinds.insert(r.kind());
    modes.insert(s.checkpointing().unaligned() ? 1 : s.checkpointing().mode());
    unaligned_flag |= s.checkpointing().unaligned();
    backends.insert(s.checkpointing().backend() * 2 + (s.checkpointing().incremental() ? 1 : 0));
    aligned_timeout |= !s.checkpointing().aligned_checkpoint_timeout().empty();
    restarts.insert(s.restart().strategy_case());
    for (const proto::Operator& op : s.job().operators()) {
      operator_kinds.insert(op.GetDescriptor()->FindFieldByNumber(op.kind_case())->name());
      inputs.insert(op.input());
      if (op.has_sink()) sinks.insert(op.sink().kind());
    }
  }
  // Every fault and the rescale operation in plans; every fault in the nemesis (it draws no
  // operation).
  EXPECT_EQ(fault_kinds.size(), faults::kFaultKindCount);
  EXPECT_EQ(rate_kinds.size(), faults::kFaultOnlyKindCount);
  EXPECT_EQ(modes.size(), 3u);
  EXPECT_EQ(backends.size(), 3u);  // heap, RocksDB full, RocksDB incremental
  EXPECT_EQ(sinks.size(), 3u);
  EXPECT_EQ(inputs.size(), 3u);
  EXPECT_EQ(restarts.size(), 3u);
  EXPECT_EQ(operator_kinds.size(), 7u);  // source map filter flat_map key_by aggregate sink
  EXPECT_GE(events.size(), 8u);
  EXPECT_TRUE(at && subtask && unaligned_flag && aligned_timeout);
}

// Some plans tell a story: the output store slow for a moment on an engine event (the extra
// latency far longer than the window), and an attempt cut off on the same event a few ms later.
TEST(Generators, SomePlansCutAnAttemptOffWithOutputCallsInFlight) {
  const std::set<std::string> cuts = {"crash_task_manager", "fail_task", "partition",
                                      "crash_job_manager"};
  int stories = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const proto::Scenario s = GenerateScenario(seed, {});
    if (s.faults_size() < 2) continue;
    const proto::Fault& slow = s.faults(0);
    const proto::Fault& cut = s.faults(1);
    if (!slow.has_output_slow() || !slow.trigger().has_on() || !cut.trigger().has_on()) continue;
    if (cut.trigger().on().event() != slow.trigger().on().event()) continue;
    if (cut.trigger().on().occurrence() != slow.trigger().on().occurrence()) continue;
    const std::string kind = cut.GetDescriptor()->FindFieldByNumber(cut.kind_case())->name();
    if (cuts.count(kind) == 0) continue;
    const auto ms = [](const std::string& d) { return d.empty() || d == "0" ? 0 : std::stoi(d); };
    const int gap = ms(cut.trigger().on().delay()) - ms(slow.trigger().on().delay());
    EXPECT_GE(gap, 0);
    EXPECT_LE(gap, 30);
    EXPECT_GE(ms(slow.output_slow().extra_latency()), 10 * ms(slow.output_slow().duration()));
    ++stories;
  }
  // One plan in four with room for two entries (three in four have): about 75 of 400.
  EXPECT_GE(stories, 40);
  EXPECT_LE(stories, 120);
}

// Sized as a user sizes a job (generators.cc, LoadBound), read back from the scenario alone: no
// source record reaches the sink in more than 16 copies, no subtask busy more than half its
// time with the records of a run without faults (every filter passing all, a keyed edge giving
// a subtask up to 3/p). A job that cannot keep up fails LIVE with no fault to blame.
TEST(Generators, EveryJobKeepsUpWithoutFaults) {
  size_t broadcasts = 0;
  size_t costed = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const proto::Scenario s = GenerateScenario(seed, {});
    const proto::Job& job = s.job();
    // Each source subtask emits a record per its record cost.
    const double cost_s = scenarios::ParseDuration(job.operators(0).record_cost())->seconds();
    double rate = job.operators(0).parallelism() / cost_s;
    double copies = 1;
    bool keyed = false;
    for (int i = 1; i < job.operators_size(); ++i) {
      const proto::Operator& op = job.operators(i);
      if (op.has_key_by()) {
        keyed = true;
        continue;
      }
      const double p = std::max<uint32_t>(op.parallelism(), 1);
      const bool broadcast = !keyed && op.input() == proto::Operator::BROADCAST;
      broadcasts += broadcast;
      const double per_subtask = broadcast ? rate : rate * (keyed ? std::min(1.0, 3 / p) : 1 / p);
      if (!op.record_cost().empty()) {
        ++costed;
        const double busy = per_subtask * scenarios::ParseDuration(op.record_cost())->seconds();
        EXPECT_LE(busy, 0.51) << op.name();  // the source's cost is whole microseconds
      }
      if (broadcast) {
        rate *= p;
        copies *= p;
      }
      if (op.has_flat_map()) {
        rate *= static_cast<double>(op.flat_map().arg());
        copies *= static_cast<double>(op.flat_map().arg());
      }
      keyed = false;
    }
    EXPECT_LE(copies, 16.0);
  }
  EXPECT_GT(broadcasts, kSeeds / 10);  // broadcasts are still generated
  EXPECT_GT(costed, kSeeds / 4);
}

TEST(Generators, SameSeedSameScenario) {
  for (uint64_t seed : {1u, 2u, 99u}) {
    EXPECT_EQ(ToTextproto(GenerateScenario(seed, {})), ToTextproto(GenerateScenario(seed, {})));
  }
  EXPECT_NE(ToTextproto(GenerateScenario(1, {})), ToTextproto(GenerateScenario(2, {})));
}

// Seed 3 on every machine and compiler: the file pins it (regenerate it on purpose only, when
// the generator changes: FAULTLINE_WRITE_GOLDEN=1 rewrites it).
TEST(Generators, SeedThreeIsPinned) {
  const std::string path = std::string(FAULTLINE_SEARCH_TESTDATA) + "/generated_seed_3.textproto";
  const std::string text = ToTextproto(GenerateScenario(3, {}));
  if (std::getenv("FAULTLINE_WRITE_GOLDEN") != nullptr) std::ofstream(path) << text;
  std::ifstream in(path);
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(text, want.str()) << "the generator's output for seed 3 changed";
}

TEST(Generators, OptionsBoundTheFaultPlan) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    const proto::Scenario s = GenerateScenario(
        seed, {.max_faults = 1, .nemesis = false, .rescale = false, .savepoint = false});
    EXPECT_EQ(s.faults_size(), 1);
    EXPECT_FALSE(s.has_nemesis());
  }
}

// Each part shrinks: some first shrink of a case has fewer operators, fewer fault entries, fewer
// records or lower parallelism, and every shrink is valid.
TEST(Generators, CasesShrinkTowardsSmallerOnes) {
  int fewer_ops = 0, fewer_faults = 0, fewer_records = 0, lower_parallelism = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const auto shrinkable = gen::Case({})(rc::Random(seed), 100);
    const GeneratedCase c = shrinkable.value();
    bool ops = false, faults = false, records = false, parallelism = false;
    int n = 0;
    auto seq = shrinkable.shrinks();
    while (auto next = seq.next()) {
      if (++n > 2000) break;
      const GeneratedCase& smaller = next->value();
      ops |= smaller.job.operators.size() < c.job.operators.size();
      faults |= smaller.faults.size() < c.faults.size();
      records |= smaller.workload.records_per_partition < c.workload.records_per_partition;
      parallelism |= smaller.job.source_parallelism < c.job.source_parallelism;
      if (n % 50 == 0) ExpectValid(ToScenario(smaller, "shrunk"));
    }
    fewer_ops += ops;
    fewer_faults += faults;
    fewer_records += records;
    lower_parallelism += parallelism;
  }
  EXPECT_GE(fewer_ops, 10);
  EXPECT_GE(fewer_faults, 10);
  EXPECT_GE(fewer_records, 15);
  EXPECT_GE(lower_parallelism, 15);
}

// At every size RapidCheck tries (small ones first), a generated case is valid.
RC_GTEST_PROP(GeneratorsProperty, EveryCaseIsValid, ()) {
  const GeneratedCase c = *gen::Case({});
  const proto::Scenario s = ToScenario(c, "case");
  const Status status = scenarios::ValidateScenario(s);
  RC_ASSERT(status.ok());
}

}  // namespace
}  // namespace faultline::search
