// Copying and comparing short byte strings (keys, small values, state names) without a call into
// memcpy or memcmp: the per-record path does both many times, where a library call costs more
// than the work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

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

// Byte equality of two short strings without a call into memcmp: word loads, the last one
// overlapping the one before.
inline bool EqualBytes(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  const auto load64 = [](const char* at) {
    uint64_t v;
    std::memcpy(&v, at, 8);
    return v;
  };
  const auto load32 = [](const char* at) {
    uint32_t v;
    std::memcpy(&v, at, 4);
    return v;
  };
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (load64(p + i) != load64(q + i)) return false;
    }
    return load64(p + n - 8) == load64(q + n - 8);
  }
  if (n >= 4) return load32(p) == load32(q) && load32(p + n - 4) == load32(q + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

}  // namespace faultline
