// Copying short byte strings (keys, small values) without a call into memcpy: the per-record
// path copies a few bytes many times, where a library call costs more than the copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace faultline {

// Copies n bytes from `from` to `to` (not overlapping). Up to 16 bytes with at most two pairs of
// fixed-size moves (the second overlapping the first); longer through memcpy.
inline void CopyBytes(void* to, const void* from, size_t n) {
  auto* d = static_cast<unsigned char*>(to);
  const auto* s = static_cast<const unsigned char*>(from);
  if (n >= 8 && n <= 16) {
    uint64_t head;
    uint64_t tail;
    std::memcpy(&head, s, 8);
    std::memcpy(&tail, s + n - 8, 8);
    std::memcpy(d, &head, 8);
    std::memcpy(d + n - 8, &tail, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t head;
    uint32_t tail;
    std::memcpy(&head, s, 4);
    std::memcpy(&tail, s + n - 4, 4);
    std::memcpy(d, &head, 4);
    std::memcpy(d + n - 4, &tail, 4);
  } else if (n > 16) {
    std::memcpy(d, s, n);
  } else {
    for (size_t i = 0; i < n; ++i) d[i] = s[i];
  }
}

}  // namespace faultline
