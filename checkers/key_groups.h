// The checkers' own key-group math, restated from Flink's KeyGroupRangeAssignment and
// docs/engine.md ("Keyed state"), not shared with engine/state/key_groups.h: a routing or
// ownership mistake in the engine's copy cannot then cancel out in a checker.
//
//   key hash       XXH3-64 (seed 0) of the key's bytes, its two halves XORed into 32 bits
//   key group      murmur3-fmix(key hash) mod max parallelism
//   operator index group * parallelism / max parallelism (integer division)
//   owned range    [ceil(i * m / p), floor(((i + 1) * m - 1) / p)] for subtask i of p, max m
#pragma once

#include <cstdint>
#include <string_view>

namespace faultline::checkers {

// Key groups [first, last], inclusive; empty when first > last.
struct GroupRange {
  uint32_t first = 1;
  uint32_t last = 0;

  bool empty() const { return first > last; }
  bool Contains(uint32_t group) const { return group >= first && group <= last; }
  bool operator==(const GroupRange&) const = default;
};

// The key group of `key`; max_parallelism in [1, 2^15] (asserted).
uint32_t GroupOfKey(std::string_view key, uint32_t max_parallelism);
// The subtask of `parallelism` that owns `group` (< max_parallelism, asserted).
uint32_t SubtaskOfGroup(uint32_t group, uint32_t parallelism, uint32_t max_parallelism);
// The subtask of `parallelism` that owns `key`.
inline uint32_t SubtaskOfKey(std::string_view key, uint32_t parallelism, uint32_t max_parallelism) {
  return SubtaskOfGroup(GroupOfKey(key, max_parallelism), parallelism, max_parallelism);
}
// The key groups subtask `subtask` of `parallelism` owns.
GroupRange GroupsOfSubtask(uint32_t subtask, uint32_t parallelism, uint32_t max_parallelism);

}  // namespace faultline::checkers
