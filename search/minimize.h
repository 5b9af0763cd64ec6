// Minimization (docs/search.md): a failing run cut down to a small scenario that fails the same
// way ("the same way": scenarios::FailureGroupOf, the checker and the property it broke).
//
// 1. The settings the seed drew (`vary`) are frozen into the scenario, and the nemesis's random
//    faults of that seed become explicit plan entries (each named, fired at the moment it fired,
//    ending by the end of the fault phase): the same run, with the same trace hash, which is
//    checked and reported.
// 2. Delta debugging (ddmin) over the plan entries: drop chunks, then complements, at finer and
//    finer granularity, keeping whatever still fails the same way.
// 3. Smaller jobs and inputs: fewer records, partitions and keys, lower parallelism, fewer
//    TaskManagers, stateless operators removed; each step kept when the run still fails.
// 4. A last pass removes entries one at a time until none can go: the result is 1-minimal
//    (removing any one remaining fault loses the failure) unless the rerun budget ran out first,
//    which the result says.
//
//   Result<MinimizeResult> m = Minimize(scenario, {.seed = 17});
//   WriteReproducer(*m, "repro.textproto");   // then: faultline run repro.textproto --seed 17
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "faults/fault_plan.h"
#include "scenarios/loader.h"

namespace faultline::search {

namespace proto = ::faultline::scenario;

struct MinimizeOptions {
  uint64_t seed = 1;
  std::vector<std::string> switches;  // teaching switches on in every rerun
  uint32_t max_reruns = 400;  // runs of the scenario, the first included (+1: the result's hash)
  std::function<void(const std::string&)> log;  // one line per accepted step (may be empty)
  // Each rerun in a child process (search/isolated.h), so a crashing run is minimized like any
  // other failure, as "CRASH: <the assertion it failed>". The caller must be single-threaded.
  bool isolate = true;
};

struct MinimizeResult {
  uint64_t seed = 0;
  std::vector<std::string> switches;  // the teaching switches the runs had on
  std::string group;                  // the failure kept
  proto::Scenario minimized;
  size_t entries_before = 0;  // plan entries plus nemesis firings of the original run
  size_t entries_after = 0;
  // The nemesis became explicit entries (false when the explicit run did not fail the same way:
  // the nemesis was kept, and only the job and inputs were minimized).
  bool made_explicit = false;
  bool explicit_same_hash = false;  // the explicit run's trace hash equals the original's
  uint64_t original_hash = 0;
  uint64_t minimized_hash = 0;
  bool one_minimal = false;  // every single-entry removal was tried on the result and lost it
  uint32_t reruns = 0;
  std::vector<std::string> steps;  // each accepted step, in order
};

// FailedPrecondition when the run does not fail (a PASS or an explained INCONCLUSIVE).
Result<MinimizeResult> Minimize(const scenarios::Scenario& scenario,
                                const MinimizeOptions& options);

// The scenario a seed runs, as an explicit plan: the seed's `vary` draw frozen in, every entry
// named, and the nemesis's firings of that seed's run (`fired`, RunReport::nemesis_entries) as
// plan entries instead of the nemesis (step 1 above; guided exploration mutates this plan).
Result<proto::Scenario> ExplicitScenario(const proto::Scenario& spec, uint64_t seed,
                                         const std::vector<faults::PlanEntry>& fired);

// The reproducer as scenario text: the minimized scenario, named "<name>-min", with a comment
// header saying where it came from and how to replay it, expecting the failure it shows.
std::string ReproducerText(const MinimizeResult& result, const std::string& source);

}  // namespace faultline::search
