#include "checkers/key_groups.h"

#include "base/assert.h"
#include "base/hash.h"

namespace faultline::checkers {
namespace {

constexpr uint32_t kLargestMaxParallelism = 1u << 15;

uint32_t RotateLeft(uint32_t v, int by) {
  return (v << by) | (v >> (32 - by));
}

// Flink's MathUtils.murmurHash(int): one MurmurHash3_x86_32 block (seed 0), then the
// finaliser with length 4.
uint32_t Murmur(uint32_t code) {
  uint32_t k = code * 0xcc9e2d51u;
  k = RotateLeft(k, 15) * 0x1b873593u;
  uint32_t h = RotateLeft(k, 13) * 5 + 0xe6546b64u;
  h ^= 4;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

void CheckParallelism(uint32_t parallelism, uint32_t max_parallelism) {
  FL_ASSERT(parallelism >= 1 && parallelism <= max_parallelism &&
                max_parallelism <= kLargestMaxParallelism,
            "parallelism out of bounds");
}

}  // namespace

uint32_t GroupOfKey(std::string_view key, uint32_t max_parallelism) {
  FL_ASSERT(max_parallelism >= 1 && max_parallelism <= kLargestMaxParallelism,
            "max parallelism out of bounds");
  const uint64_t h = Hash64(key, 0);
  const auto key_hash = static_cast<uint32_t>(h ^ (h >> 32));
  return Murmur(key_hash) % max_parallelism;
}

uint32_t SubtaskOfGroup(uint32_t group, uint32_t parallelism, uint32_t max_parallelism) {
  CheckParallelism(parallelism, max_parallelism);
  FL_ASSERT(group < max_parallelism, "a key group beyond max parallelism");
  return static_cast<uint32_t>(uint64_t{group} * parallelism / max_parallelism);
}

GroupRange GroupsOfSubtask(uint32_t subtask, uint32_t parallelism, uint32_t max_parallelism) {
  CheckParallelism(parallelism, max_parallelism);
  FL_ASSERT(subtask < parallelism, "a subtask beyond parallelism");
  const uint64_t m = max_parallelism;
  const uint64_t p = parallelism;
  return {static_cast<uint32_t>((subtask * m + p - 1) / p),
          static_cast<uint32_t>(((subtask + 1) * m - 1) / p)};
}

}  // namespace faultline::checkers
