// Compare two runs (two branches, or two seeds of one scenario): the first trace record where
// they part (same time, kind, node, arguments and detail up to it: the runs are identical until
// then, as determinism promises), and how their states differ at a moment. Qt-free.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "gui/core/recording.h"
#include "gui/core/timeline.h"

namespace faultline::gui {

struct Divergence {
  size_t record = 0;  // the first differing record's index (equal before it)
  Time at;            // the earlier of the two records' times there
  std::string here;   // the record there in the first run ("" when it ended)
  std::string there;  // the record there in the second
};

// Where `a` and `b` part; nullopt when their traces are the same.
std::optional<Divergence> FirstDivergence(const Recording& a, const Recording& b);

struct StateDifference {
  std::string what;  // "job", "attempt", "task sum+out#1", "checkpoint 3", "nodes down"
  std::string here;
  std::string there;
};

// How two states differ, field by field (empty: the same).
std::vector<StateDifference> CompareStates(const RunState& here, const RunState& there);

}  // namespace faultline::gui
