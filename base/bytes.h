// Copying and comparing short byte strings (keys, small values, state names) without a call into
// memcpy or memcmp: the per-record path does both many times, where a library call costs more
// than the work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace faultline {

// Loads and stores a machine word from unaligned bytes.
template <typename Word>
inline Word LoadWord(const void* at) {
  Word v;
  std::memcpy(&v, at, sizeof v);
  return v;
}
template <typename Word>
inline void StoreWord(void* at, Word v) {
  std::memcpy(at, &v, sizeof v);
}

// Copies n bytes, sizeof(Word) <= n <= 2 sizeof(Word), as two words (the second overlapping).
template <typename Word>
inline void CopyTwoWords(unsigned char* to, const unsigned char* from, size_t n) {
  const auto head = LoadWord<Word>(from);
  const auto tail = LoadWord<Word>(from + n - sizeof(Word));
  StoreWord(to, head);
  StoreWord(to + n - sizeof(Word), tail);
}

// Copies n bytes from `from` to `to` (not overlapping). Up to 16 bytes with at most two pairs of
// fixed-size moves; longer through memcpy.
inline void CopyBytes(void* to, const void* from, size_t n) {
  auto* d = static_cast<unsigned char*>(to);
  const auto* s = static_cast<const unsigned char*>(from);
  if (n > 16) {
    std::memcpy(d, s, n);
  } else if (n >= 8) {
    CopyTwoWords<uint64_t>(d, s, n);
  } else if (n >= 4) {
    CopyTwoWords<uint32_t>(d, s, n);
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
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (LoadWord<uint64_t>(p + i) != LoadWord<uint64_t>(q + i)) return false;
    }
    return LoadWord<uint64_t>(p + n - 8) == LoadWord<uint64_t>(q + n - 8);
  }
  if (n >= 4) {
    return LoadWord<uint32_t>(p) == LoadWord<uint32_t>(q) &&
           LoadWord<uint32_t>(p + n - 4) == LoadWord<uint32_t>(q + n - 4);
  }
  // 0 to 3 bytes: first, middle and last cover them all.
  return n == 0 || (p[0] == q[0] && p[n >> 1] == q[n >> 1] && p[n - 1] == q[n - 1]);
}

}  // namespace faultline
