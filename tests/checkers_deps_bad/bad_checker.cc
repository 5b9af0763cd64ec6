// The must-fail twin of check_checkers_deps.sh: a "checker" that asks the engine which key
// groups a subtask owns instead of computing them, as checkers/eo_cut.cc once did. Both of the
// script's checks refuse it.
#include <cstdint>

#include "engine/state/key_groups.h"

namespace faultline::checkers_deps_bad {

uint32_t FirstGroupOf(uint32_t subtask, uint32_t parallelism, uint32_t max_parallelism) {
  return engine::KeyGroupRangeForOperator(subtask, parallelism, max_parallelism).first;
}

}  // namespace faultline::checkers_deps_bad
