// Exploration (docs/search.md): many seeds of one scenario, or of generated cases, run in
// parallel; each simulation stays single-threaded and deterministic. Every seed gives one
// deterministic result line (JSON), so the output of a seed range is the same whatever the
// thread count, and shards of the range (--shard K/N: contiguous blocks) concatenate, in shard
// order, to exactly the unsharded output. Failures are grouped by what went wrong (the checker and
// the property, scenarios::FailureGroupOf), so a thousand seeds hitting one bug show as one.
//
//   ExploreOptions options;
//   options.source = ScenarioFileSource(*LoadScenarioFile("x.textproto"));
//   options.seeds = 1000;
//   options.on_result = [&](const SeedResult& r) { jsonl << SeedResultJson(r) << "\n"; };
//   Result<ExploreReport> report = Explore(options);
//   std::cout << FormatExploreReport(*report);
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/isolated.h"
#include "base/status.h"
#include "checkers/markers.h"
#include "faults/fault_plan.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace faultline::search {

namespace proto = ::faultline::scenario;

// The case a seed runs: the scenario (its spec is what a reproducer writes out).
using CaseSource = std::function<Result<scenarios::Scenario>(uint64_t seed)>;

// Every seed runs the same scenario (at that seed).
CaseSource ScenarioFileSource(scenarios::Scenario scenario);

struct Shard {
  uint32_t index = 1;  // 1-based
  uint32_t count = 1;
};
// "K/N" with 1 <= K <= N.
Result<Shard> ParseShard(std::string_view text);

// The seeds of shard `shard` of [first, first + seeds): a contiguous block, so shard outputs
// concatenate in shard order to the unsharded output. May be empty.
struct SeedRange {
  uint64_t first = 1;
  uint64_t count = 0;
};
SeedRange ShardRange(uint64_t first, uint64_t seeds, Shard shard);

// One seed's result: deterministic (no wall time), so equal runs give equal lines.
struct SeedResult {
  uint64_t seed = 0;
  std::string scenario;  // the case's name
  std::string outcome;   // PASS, VIOLATION, INCONCLUSIVE, ERROR
  bool failing = false;  // a violation, an unexplained inconclusive, or an error
  std::string group;     // what went wrong (empty unless failing)
  std::string detail;    // the run's own words: the first violation, the reasons, the error
  checkers::Markers markers;
  uint64_t trace_hash = 0;
  uint64_t simulated_ms = 0;
  uint64_t fault_entries = 0;  // plan entries plus nemesis firings
  std::string reproduce;
  // DET sample: the hash of a second run, when this seed was rerun.
  std::optional<uint64_t> rerun_hash;
  bool det_mismatch() const { return rerun_hash && *rerun_hash != trace_hash; }
  // --guided (search/guided.h): the run's place in the run order (1-based), and for a mutant the
  // run it was mutated from and the mutations applied (the seed is the parent's).
  std::optional<uint64_t> run;
  std::optional<uint64_t> mutant_of;
  std::vector<std::string> mutations;
};

// --guided: how the kept inputs are chosen and mutated (docs/search.md, "Guided exploration").
struct GuidedOptions {
  // A run is kept when it reached a marker, or a pair of markers, that fewer than `keep_below`
  // kept inputs reached before it.
  uint32_t keep_below = 3;
  uint32_t generation = 32;  // mutants made, then run, per generation
  uint64_t plain_seeds = 0;  // the initial inputs (0: a quarter of --seeds, at least 1)
  // Where a mutant's scenario file is said to be (its reproduce command names it; the CLI writes
  // the failing ones there).
  std::string mutant_dir = ".";
};

struct ExploreOptions {
  CaseSource source;
  std::string source_label;  // "scenarios/x.textproto" or "--generate"
  uint64_t first_seed = 1;
  uint64_t seeds = 100;
  Shard shard;
  unsigned jobs = 0;  // runs at once (0: one per hardware thread)
  // Stop taking new seeds after this much wall time (seeds under way finish). Unset: none.
  std::optional<double> time_budget_seconds;
  // Teaching switches turned on in every case (the case's own list is kept).
  std::vector<std::string> switches;
  // DET: every `det_every`-th seed of the range is run twice; a differing hash fails it. 0: off.
  uint64_t det_every = 0;
  // Called in seed order, from one thread at a time, as results become final.
  std::function<void(const SeedResult&)> on_result;
  // Called after each run (one thread at a time): seeds done, seeds in the range, failing.
  std::function<void(uint64_t done, uint64_t total, uint64_t failing)> progress;
  // Each run in a child process of its own (search/isolated.h), so a run that crashes is reported
  // as a CRASH and the exploration goes on. false: runs on threads of this process (a crash ends
  // the exploration).
  bool isolate = true;
  // Coverage-guided exploration (search/guided.h): `seeds` bounds the runs, plain and mutant.
  bool guided = false;
  GuidedOptions guided_options;
};

// A mutant that failed: its scenario (an explicit plan, no nemesis, `seed` written in) is what its
// reproduce command runs.
struct FailingMutant {
  uint64_t run = 0;
  uint64_t seed = 0;
  std::string group;
  scenarios::Scenario scenario;
};

struct GuidedSummary {
  uint64_t plain_runs = 0;
  uint64_t mutants = 0;
  uint64_t generations = 0;
  uint64_t corpus = 0;           // inputs kept
  uint64_t invalid_mutants = 0;  // mutations drawn again because the result was not valid
  std::array<uint64_t, checkers::kMarkerCount> plain_hits{};
  std::array<uint64_t, checkers::kMarkerCount> mutant_hits{};
  std::vector<FailingMutant> failing_mutants;  // in run order, at most kFailingMutantsKept
};
inline constexpr size_t kFailingMutantsKept = 64;

struct FailureGroup {
  std::string what;
  std::vector<uint64_t> seeds;  // ascending (--guided: in run order, a mutant's is its parent's)
  std::string first_reproduce;
  std::vector<uint64_t> runs;  // --guided: the failing runs, in run order
};

struct ExploreReport {
  std::string source_label;
  SeedRange range;  // this shard's seeds
  Shard shard;
  unsigned jobs = 0;
  bool isolated = false;  // the runs ran in worker processes (else on threads)
  uint64_t done = 0;      // seeds run (fewer than range.count when the time budget ran out)
  bool budget_exhausted = false;
  double wall_seconds = 0;
  std::map<std::string, uint64_t> outcomes;  // outcome -> seeds
  std::array<uint64_t, checkers::kMarkerCount> marker_hits{};
  std::vector<FailureGroup> groups;  // most seeds first
  std::vector<uint64_t> det_mismatches;
  uint64_t det_checked = 0;
  uint64_t failing = 0;
  std::optional<GuidedSummary> guided;  // --guided only

  bool clean() const { return failing == 0 && det_mismatches.empty(); }
  double seeds_per_second() const;
};

// InvalidArgument for an empty range spec, a bad shard, a missing source.
Result<ExploreReport> Explore(const ExploreOptions& options);

std::string SeedResultJson(const SeedResult& result);
// The inverse of SeedResultJson (one line of `--json` output). InvalidArgument on anything else.
Result<SeedResult> ParseSeedResultJson(std::string_view line);
// The result of a seed whose run crashed (docs/search.md, "A crash is a finding"): outcome CRASH,
// failing, grouped by the crash's reason (the assertion it failed), the reason and stderr tail as
// its detail.
SeedResult CrashResult(uint64_t seed, const std::string& scenario, const ChildEnd& end);

// ---- shared with guided exploration (search/guided.cc) ----

// One run of `c` at `seed` (DET: twice). `fired`, when not null, receives the nemesis's firings.
SeedResult RunCase(const scenarios::Scenario& c, uint64_t seed,
                   const std::vector<std::string>& switches, bool det,
                   std::vector<faults::PlanEntry>* fired);
// Names a crashed seed's case (its scenario and reproduce command), making the case again in a
// worker process: making it may be what crashed.
void NameCrashedCase(const CaseSource& source, const std::vector<std::string>& switches,
                     SeedResult& result);
// Counts one result into the report (outcomes, markers, groups, DET).
void TallyResult(const SeedResult& s, ExploreReport& report);
// Runs run(i) for i in [0, count) on `jobs` threads and hands each result to deliver(i, result)
// in index order, one thread at a time, as soon as every earlier index is done. Takes no new index
// once stop() says so; returns how many were delivered (a prefix of the indices).
uint64_t RunInOrder(uint64_t count, unsigned jobs, const std::function<bool()>& stop,
                    const std::function<SeedResult(uint64_t)>& run,
                    const std::function<void(uint64_t, SeedResult&)>& deliver);
// The same with each run(i) in a child process (search/isolated.h): a run that crashes is
// delivered as crashed(i, how it ended). run(i) may set `extra`, which reaches deliver(i, ...)
// (a child's writes to this process's memory are lost: only what it returns comes back).
uint64_t RunIsolatedSeeds(
    uint64_t count, unsigned jobs, const std::function<bool()>& stop,
    const std::function<SeedResult(uint64_t, std::string& extra)>& run,
    const std::function<SeedResult(uint64_t, const ChildEnd&)>& crashed,
    const std::function<void(uint64_t, SeedResult&, const std::string& extra)>& deliver);
std::string FormatExploreReport(const ExploreReport& report);

}  // namespace faultline::search
