// `faultline explore` and `faultline minimize` (docs/search.md): many seeds of a scenario (or of
// generated cases) in parallel, with a JSON line per seed, coverage markers and grouped failures;
// and a failing run cut down to a minimal reproducer. Kept out of main.cc, which holds the
// argument parsing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace faultline::cli {

struct ExploreArgs {
  std::string file;  // empty with --generate
  bool generate = false;
  uint64_t first_seed = 1;
  uint64_t seeds = 100;
  unsigned jobs = 0;
  std::string shard = "1/1";
  double time_budget = 0;  // seconds; 0: none
  std::string json;        // JSON Lines, one per seed
  std::string html;        // the HTML report (report/html_report.h)
  std::vector<std::string> switches;
  uint64_t det_every = 0;
  bool minimize = true;                     // minimize the first seed of each failing group
  std::string out_dir = "faultline-repro";  // where minimized reproducers go
  uint32_t max_reruns = 400;
  bool progress = false;  // a progress line on stderr (default: when stderr is a terminal)
  bool guided = false;    // coverage-guided (search/guided.h)
  uint32_t keep_below = 3;
  bool isolate = true;  // each run in a child process: a crash is a finding (search/isolated.h)
};

struct MinimizeArgs {
  std::string file;
  uint64_t seed = 0;
  bool has_seed = false;
  std::vector<std::string> switches;
  std::string out;  // the reproducer file (default: <name>.min.textproto beside nothing: cwd)
  uint32_t max_reruns = 400;
  bool isolate = true;
};

// Exit 0 when every seed is clean, 1 when one failed, 2 on bad input.
int ExploreCommand(const ExploreArgs& args);
// Exit 0 when a reproducer was written, 1 when the run does not fail, 2 on bad input.
int MinimizeCommand(const MinimizeArgs& args);

}  // namespace faultline::cli
