#include "engine/state/key_groups.h"

#include "base/assert.h"
#include "base/hash.h"

namespace faultline::engine {

KeyGroupRange KeyGroupRange::Intersect(const KeyGroupRange& o) const {
  return {first > o.first ? first : o.first, last < o.last ? last : o.last};
}

std::string KeyGroupRange::ToString() const {
  if (empty()) return "[]";
  return "[" + std::to_string(first) + ", " + std::to_string(last) + "]";
}

uint32_t DefaultMaxParallelism(uint32_t parallelism) {
  uint64_t want = parallelism + parallelism / 2;  // 1.5 p
  uint64_t pow2 = 1;
  while (pow2 < want) pow2 <<= 1;
  if (pow2 < 128) pow2 = 128;
  if (pow2 > kMaxParallelismUpperBound) pow2 = kMaxParallelismUpperBound;
  return static_cast<uint32_t>(pow2);
}

Status ValidateParallelism(uint32_t parallelism, uint32_t max_parallelism) {
  if (parallelism == 0) return InvalidArgumentError("parallelism must be at least 1");
  if (max_parallelism > kMaxParallelismUpperBound) {
    return InvalidArgumentError("max parallelism " + std::to_string(max_parallelism) +
                                " is above the limit " + std::to_string(kMaxParallelismUpperBound));
  }
  if (parallelism > max_parallelism) {
    return InvalidArgumentError("parallelism " + std::to_string(parallelism) +
                                " is above max parallelism " + std::to_string(max_parallelism));
  }
  return Status::Ok();
}

uint32_t KeyHash(std::string_view key_bytes) {
  const uint64_t h = Hash64(key_bytes, 0);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

uint32_t OperatorIndexForKeyGroup(KeyGroup group, uint32_t parallelism, uint32_t max_parallelism) {
  FL_ASSERT(group < max_parallelism);
  FL_ASSERT(ValidateParallelism(parallelism, max_parallelism).ok());
  return static_cast<uint32_t>(uint64_t{group} * parallelism / max_parallelism);
}

KeyGroupRange KeyGroupRangeForOperator(uint32_t operator_index, uint32_t parallelism,
                                       uint32_t max_parallelism) {
  FL_ASSERT(ValidateParallelism(parallelism, max_parallelism).ok());
  FL_ASSERT(operator_index < parallelism);
  const uint64_t first =
      (uint64_t{operator_index} * max_parallelism + parallelism - 1) / parallelism;
  const uint64_t last = ((uint64_t{operator_index} + 1) * max_parallelism - 1) / parallelism;
  return {static_cast<KeyGroup>(first), static_cast<KeyGroup>(last)};
}

}  // namespace faultline::engine
