// What more than one checker derives from one run, made once for a batch of checkers: the
// source index (EO-OUT, EO-CUT, coverage), the reference replayed over every source record along
// the committed histories (EO-OUT, and coverage for AL-LOSS and LIVE), and the coverage itself
// (AL-LOSS, LIVE). RunChecker with a Derived shares them between the checkers of a batch; a
// checker called without one derives its own, the same way, so a verdict never depends on which
// other checkers ran. A Derived reads its view on demand: the view must stay unchanged while the
// Derived is in use.
#pragma once

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "checkers/coverage.h"
#include "checkers/history.h"
#include "checkers/reference.h"
#include "checkers/run_view.h"

namespace faultline::checkers {

class Derived {
 public:
  explicit Derived(const RunView& view) : view_(view) {}
  Derived(const Derived&) = delete;
  Derived& operator=(const Derived&) = delete;

  const SourceIndex& Index();

  // The reference over every source record, each keyed operator replayed per key in the order
  // of the tasks' histories ending at `end` (OrdersOf), or in stream order when the run has no
  // usable order log (no log, or it overflowed): `orders` is then unset. In at-least-once mode
  // a record a history processed again after a restore is processed again
  // (ReferenceInput::repeats).
  struct Replay {
    std::optional<KeyedOrders> orders;
    ReferenceResult result;
  };
  const Replay& Committed(const HistoryEnd& end);

  const Coverage& CoverageOfRun();

 private:
  const RunView& view_;
  std::unique_ptr<SourceIndex> index_;
  std::vector<std::pair<HistoryEnd, std::unique_ptr<Replay>>> replays_;
  std::unique_ptr<Coverage> coverage_;
};

}  // namespace faultline::checkers
