// Key groups: the unit in which keyed state is partitioned, snapshotted and redistributed.
// Flink's assignment (KeyGroupRangeAssignment): a key's group is a murmur-mixed hash of the
// key modulo the maximum parallelism; subtask i of p owns one contiguous range of groups, so
// rescaling moves whole groups and never splits one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "base/status.h"

namespace faultline::engine {

using KeyGroup = uint32_t;

// The key groups [first, last] (inclusive); empty when first > last.
struct KeyGroupRange {
  KeyGroup first = 1;
  KeyGroup last = 0;

  static KeyGroupRange Of(KeyGroup first, KeyGroup last) { return {first, last}; }
  bool empty() const { return first > last; }
  uint32_t size() const { return empty() ? 0 : last - first + 1; }
  bool Contains(KeyGroup g) const { return g >= first && g <= last; }
  KeyGroupRange Intersect(const KeyGroupRange& o) const;
  std::string ToString() const;
  bool operator==(const KeyGroupRange&) const = default;
};

// Bounds of Flink's max parallelism (2^15).
inline constexpr uint32_t kMaxParallelismUpperBound = 1u << 15;

// Flink's default: min(max(roundUpToPowerOfTwo(1.5 p), 128), 32768).
uint32_t DefaultMaxParallelism(uint32_t parallelism);

// Checks 1 <= parallelism <= max_parallelism <= 2^15.
Status ValidateParallelism(uint32_t parallelism, uint32_t max_parallelism);

// MurmurHash3's 32-bit finaliser over one mixed block, as Flink's MathUtils.murmurHash does for
// an int: it spreads poor hashCodes (small integers) over all groups.
constexpr uint32_t MurmurMix(uint32_t code) {
  uint32_t h = code * 0xcc9e2d51u;
  h = (h << 15) | (h >> 17);
  h *= 0x1b873593u;
  h = (h << 13) | (h >> 19);
  h = h * 5 + 0xe6546b64u;
  h ^= 4;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// The key group of a key, given the key's own 32-bit hash (its "hashCode"). Inline: every
// record is routed by it and again looked up under it.
inline KeyGroup KeyGroupForHash(uint32_t key_hash, uint32_t max_parallelism) {
  FL_ASSERT(max_parallelism > 0 && max_parallelism <= kMaxParallelismUpperBound);
  const uint32_t mixed = MurmurMix(key_hash);
  // The default max parallelism is a power of two: a mask gives the same group as the
  // division, without the division's latency on every record.
  if ((max_parallelism & (max_parallelism - 1)) == 0) return mixed & (max_parallelism - 1);
  return mixed % max_parallelism;
}
// A stable 32-bit hash of a key's bytes, used as the key's hashCode for built-in key types.
uint32_t KeyHash(std::string_view key_bytes);
inline KeyGroup KeyGroupForKey(std::string_view key_bytes, uint32_t max_parallelism) {
  return KeyGroupForHash(KeyHash(key_bytes), max_parallelism);
}

// The subtask (operator index) that owns `group`.
uint32_t OperatorIndexForKeyGroup(KeyGroup group, uint32_t parallelism, uint32_t max_parallelism);
// The contiguous range of groups subtask `operator_index` owns.
KeyGroupRange KeyGroupRangeForOperator(uint32_t operator_index, uint32_t parallelism,
                                       uint32_t max_parallelism);

}  // namespace faultline::engine
