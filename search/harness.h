// faultline's test harness: check a job (yours, built with the job API, or a generated
// scenario's own) under generated fault plans, from your own GoogleTest or RapidCheck tests.
// Installed as <faultline/harness.h>; link faultline::harness (docs/property_tests.md).
//
//   // GoogleTest: 20 generated cases (world, checkpointing, fault plan) around your job.
//   TEST(MyJob, SurvivesGeneratedFaults) {
//     const faultline::harness::Summary s =
//         faultline::harness::CheckJobUnderFaults(BuildMyJob(), {.cases = 20});
//     EXPECT_TRUE(s.ok()) << s.Describe();
//   }
//
//   // RapidCheck: RapidCheck generates and shrinks the case.
//   RC_GTEST_PROP(MyJob, Holds, ()) {
//     const auto c = *faultline::search::gen::Case({});
//     const auto r = faultline::harness::CheckJobCase(BuildMyJob(), c, {});
//     RC_ASSERT(r.holds);  // r.failure says why, r.reproducer where the case was written
//   }
//
// The property: every checker holds within the mode's guarantee. A VIOLATION fails; an
// INCONCLUSIVE fails unless a planned fault explains it (a node crashed for good, a blob an
// injected fault destroyed); an error (the run could not start) fails. A failing case is written
// as a scenario file with the command that replays it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/api/job.h"
#include "scenarios/runner.h"
#include "search/generators.h"
#include "search/rc_generators.h"

namespace faultline::harness {

struct Options {
  // Cases CheckJobUnderFaults generates: seeds first_seed .. first_seed + cases - 1.
  uint32_t cases = 20;
  uint64_t first_seed = 1;
  search::GenerateOptions generate;
  // Checkpointing modes to test (proto::Checkpointing::Mode); empty: all three. A job whose sink
  // is not two-phase-commit promises exactly-once in no mode: test it in AT_LEAST_ONCE.
  std::vector<int> modes;
  // Teaching switches to turn on (planted engine mistakes: tests of the property itself).
  std::vector<std::string> teaching_switches;
  // Where failing cases are written; empty: $FAULTLINE_REPRODUCER_DIR, else ./faultline-repro.
  std::string reproducer_dir;
  // The scenario's name and its file's (<name>.textproto); CheckJobUnderFaults adds "-<seed>".
  std::string name = "case";
};

// The outcome of one case.
struct CaseResult {
  bool holds = false;
  std::string failure;     // why the property does not hold (empty when it holds)
  std::string reproducer;  // the scenario file written for a failing case
  std::string replay;      // the command that replays it
  std::string scenario_text;
  scenarios::RunReport report;  // empty when the run could not start
};

struct Summary {
  uint32_t cases = 0;
  uint32_t passed = 0;
  uint32_t inconclusive_explained = 0;
  std::vector<CaseResult> failures;
  bool ok() const { return failures.empty(); }
  std::string Describe() const;
};

// Whether a run's result keeps the property; the reason when it does not.
bool Holds(const Result<scenarios::RunReport>& run, std::string* why);

// A generated case with the scenario's own job.
CaseResult CheckCase(const search::GeneratedCase& c, const Options& options);
// A generated case around `job`: its world, checkpointing, source log and fault plan (faults name
// the job's source and sink subtasks). A source without a record cost of its own emits at the
// generated workload's rate.
CaseResult CheckJobCase(const engine::JobGraph& job, const search::GeneratedCase& c,
                        const Options& options);
// `options.cases` generated cases around `job`.
Summary CheckJobUnderFaults(const engine::JobGraph& job, const Options& options);

// The scenario CheckJobCase runs for `job` (faults naming its operators, its sink's kind).
scenarios::proto::Scenario ScenarioForJob(const engine::JobGraph& job,
                                          const search::GeneratedCase& c, const Options& options);
// The scenario CheckCase runs (teaching switches and mode applied).
scenarios::proto::Scenario ScenarioForCase(const search::GeneratedCase& c, const Options& options);

// Writes a failing scenario (with the failure and the replay command in a comment) into `dir`
// (created if missing) and returns its path; empty on an I/O error.
std::string WriteReproducer(const std::string& dir, const scenarios::proto::Scenario& s,
                            const std::string& failure, const std::string& replay);

}  // namespace faultline::harness
