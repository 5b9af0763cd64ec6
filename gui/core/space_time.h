// The space-time diagram of a recorded run (Lamport's and Chandy's figures, ShiViz's lanes): a
// lane per subtask (every plan generation's), barrier arrows from the producer's emission to
// the consumer's reception on each input channel, alignment spans (first barrier to aligned),
// snapshots, and the run's faults and recoveries as vertical lines. Computed once from the
// trace (Qt-free); the view draws what falls in its window of time, tests assert on it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/time.h"
#include "gui/core/recording.h"

namespace faultline::gui {

struct SpaceTime {
  std::vector<std::string> lanes;  // task names: chains in pipeline order, subtasks in order

  struct Arrow {  // a barrier on one channel: emitted by `from`, received by `to`
    size_t from = 0;
    size_t to = 0;
    Time sent;
    Time received;
    int64_t checkpoint = 0;
  };
  struct Span {  // a subtask aligning: its first barrier to its last
    size_t lane = 0;
    Time from;
    Time to;
    int64_t checkpoint = 0;
  };
  struct Dot {  // a snapshot captured
    size_t lane = 0;
    Time at;
    int64_t checkpoint = 0;
  };
  struct Line {  // a fault, a restart, a recovery
    Time at;
    enum class Kind { kFault, kRecovery } kind = Kind::kFault;
    std::string text;
  };
  std::vector<Arrow> arrows;
  std::vector<Span> spans;
  std::vector<Dot> dots;
  std::vector<Line> lines;
};

SpaceTime BuildSpaceTime(const Recording& recording);

}  // namespace faultline::gui
