// The windows faults were active in, from a run report's fault events (scenarios::FaultRecord,
// the report's "faults.events" in JSON), for shading plots as Jepsen shades its latency graphs.
// One window per fault:
//   - a named fault's firings ("fault NAME @ target at point on node N"): from its first firing
//     to its last, so a 2 s blob-store outage hit by 20 uploads is one window;
//   - a node crash ("node N crashed (...)") up to its restart ("node N restarted"), a pause up to
//     its resume, a partition up to its heal; still open at the end of the run: up to the end;
//   - anything else (a clock set, a checkpoint the engine found unreadable): an instant.
#pragma once

#include <string>
#include <vector>

#include "base/time.h"
#include "scenarios/runner.h"

namespace faultline::report {

struct FaultWindow {
  std::string key;    // what groups the events: "fault blob-store-down", "node 1 down"
  std::string label;  // for people: "crash-while-aligning: node 1 down"
  Time start;
  Time end;
  bool open = false;  // never closed: runs to the end of the run
  size_t events = 0;  // fault events in the window
};

// In order of their start (then of the first event). `run_end` closes open windows.
std::vector<FaultWindow> FaultWindows(const std::vector<scenarios::FaultRecord>& faults,
                                      Time run_end);

}  // namespace faultline::report
