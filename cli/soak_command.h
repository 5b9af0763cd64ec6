// `faultline soak`: scenarios over a seed range in parallel, with a grouped report of the failing
// runs (docs/soak.md). Kept out of main.cc, which holds the argument parsing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace faultline::cli {

struct SoakArgs {
  std::vector<std::string> files;  // empty: every scenario in `dir`
  std::string dir;                 // the soak scenarios (scenarios/soak)
  uint64_t first_seed = 1;
  uint64_t seeds = 100;
  unsigned jobs = 0;
  size_t list = 20;  // failing runs listed in full
  std::string report_json;
  bool progress = false;  // a progress line on stderr (default: when stderr is a terminal)
  bool isolate = true;    // each run in a worker process (base/isolated.h)
};

// Exit 0 when the soak is clean, 1 when a run failed, 2 on bad input.
int SoakCommand(const SoakArgs& args);

}  // namespace faultline::cli
