// Per-seed variation (scenario.proto `vary`): the settings a seed draws from their candidates, so
// that a seed range covers many configurations of one scenario (the soak, docs/soak.md).
//
//   const Varied v = ApplyVary(scenario.spec, seed);  // v.spec: the settings this seed runs
//   // v.drawn: "max_concurrent 2, interval 100ms" for the report (empty: nothing varied)
//
// The draws come from a generator forked off the seed (not the world's own streams), so the same
// seed draws the same settings, and a scenario without `vary` runs exactly as before.
#pragma once

#include <cstdint>
#include <string>

#include "scenarios/scenario.pb.h"

namespace faultline::scenarios {

struct Varied {
  ::faultline::scenario::Scenario spec;  // the drawn settings in place, `vary` cleared
  std::string drawn;                     // what the seed drew, in words
};

Varied ApplyVary(const ::faultline::scenario::Scenario& spec, uint64_t seed);

}  // namespace faultline::scenarios
