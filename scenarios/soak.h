// The soak (docs/soak.md): scenarios run over a range of seeds in parallel, each run judged as a
// PASS, a VIOLATION, or an INCONCLUSIVE that a fault the scenario planned explains or not. The
// report names every failing run (a violation, an unexplained inconclusive, an error) with the
// command that reproduces it, and groups them by what went wrong.
//
//   SoakOptions options{.files = {"scenarios/soak/aligned.textproto"}, .first_seed = 1,
//                       .seeds = 1000};
//   Result<SoakReport> report = RunSoak(options);
//   std::cout << FormatSoakReport(*report, 20);   // report->clean() for the exit code
//
// Every scenario soaked must expect PASS: the soak's promise is that none of its seeds breaks a
// property. Same files, seeds and build => the same report (but for wall times), whatever
// `jobs` is.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "scenarios/runner.h"

namespace faultline::scenarios {

struct SoakOptions {
  std::vector<std::string> files;  // scenario files, each expecting PASS
  uint64_t first_seed = 1;
  uint64_t seeds = 100;  // per file: first_seed .. first_seed + seeds - 1
  unsigned jobs = 0;     // runs at once (0: one per hardware thread)
  // Each run in a worker process (base/isolated.h), so a run that crashes is a failing run
  // (counted under `crashes`) and the soak goes on; false: threads of this process.
  bool isolate = true;
  // Called after each run (from one thread at a time): runs done, runs in all, failing so far.
  std::function<void(uint64_t done, uint64_t total, uint64_t failing)> progress;
};

// A run that failed the soak: a violation, an inconclusive no planned fault explains, an error,
// a crash.
struct SoakFailure {
  std::string file;
  uint64_t seed = 0;
  std::string group;   // what went wrong, without the run's particulars
  std::string detail;  // the run's own words (the first violation, the unexplained reasons)
  std::string varied;  // the settings the seed drew
  std::string reproduce;
};

struct SoakScenario {
  std::string file;
  std::string name;
  uint64_t runs = 0;
  uint64_t pass = 0;
  uint64_t violation = 0;
  uint64_t inconclusive_explained = 0;
  uint64_t inconclusive_unexplained = 0;
  uint64_t errors = 0;
  uint64_t crashes = 0;          // runs whose process crashed (an assertion, a signal)
  double wall_seconds = 0;       // summed over the runs
  double simulated_seconds = 0;  // summed over the runs
  // Explained inconclusives by explanation kind ("LIVE job-not-finished") and count.
  std::map<std::string, uint64_t> explained;
};

struct SoakReport {
  uint64_t first_seed = 0;
  uint64_t seeds = 0;
  unsigned jobs = 0;
  bool isolated = false;  // the runs ran in worker processes (else on threads)
  double wall_seconds = 0;
  std::vector<SoakScenario> scenarios;  // in the order of the files
  std::vector<SoakFailure> failures;    // by file, then seed

  uint64_t runs() const;
  // No violation, no unexplained inconclusive, no error, no crash.
  bool clean() const;
};

// What went wrong in a run, without its particulars, so runs that hit one bug group together:
// "VIOLATION <checker>: <the property broken>", "INCONCLUSIVE <the unexplained reasons>"; empty
// for a PASS or an INCONCLUSIVE that planned faults explain.
std::string FailureGroupOf(const RunReport& report);
// The same for a run that ended in an error: "ERROR <message>" with its numbers masked ("N").
std::string ErrorGroupOf(const Status& status);

// InvalidArgument when a file does not load or does not expect PASS; NotFound for a missing file.
Result<SoakReport> RunSoak(const SoakOptions& options);

// The human report: a table per scenario, the failing groups with their seeds, then up to
// `max_listed` failing runs with their reproduce commands.
std::string FormatSoakReport(const SoakReport& report, size_t max_listed);
std::string SoakReportJson(const SoakReport& report);

}  // namespace faultline::scenarios
