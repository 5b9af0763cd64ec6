// Mutations of an explicit fault plan, for guided exploration (search/guided.h, docs/search.md
// "Guided exploration"). A parent is a scenario whose faults are all plan entries (no nemesis:
// search::ExplicitScenario); a mutant applies one to three of these to it:
//
//   shift     an entry fires at another time (`at` moved by up to a quarter of the horizon), or
//             on another occurrence, checkpoint or delay of its engine event
//   add       a copy of an entry (a kind this scenario already uses, so its world supports it)
//             fired at a new time or on an engine event, its targets and durations redrawn
//   remove    an entry is dropped
//   retarget  another node or TaskManager, another link, another target prefix or scope count
//   duration  a restart delay, duration, heal time, lag or extra latency halved or doubled
//
// Every mutant is a valid scenario (scenarios::ValidateScenario, what `faultline check` runs): a
// draw whose result is not valid is drawn again, a bounded number of times.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/rng.h"
#include "scenarios/loader.h"

namespace faultline::search {

namespace proto = ::faultline::scenario;

struct Mutant {
  proto::Scenario spec;
  std::vector<std::string> mutations;  // "shift faults[2] at 1200ms -> 900ms", in order
  uint32_t invalid_draws = 0;          // mutations drawn again because the result was not valid
};

// `horizon_ms`: new `at` times fall in [0, horizon_ms]. `tag` names added entries ("<tag>-<k>").
// nullopt when no valid mutant was found within the bounded draws (e.g. an empty plan whose only
// possible mutation, add, has nothing to copy).
std::optional<Mutant> Mutate(const proto::Scenario& parent, uint64_t horizon_ms,
                             const std::string& tag, Rng& rng);

}  // namespace faultline::search
