// Fast hashing and checksums (xxHash XXH3). Checksums guard every stored blob; the rolling trace
// hash chains one XXH3 per record, seeded by the previous hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace faultline {

uint64_t Hash64(std::span<const std::byte> bytes, uint64_t seed = 0);
uint64_t Hash64(std::string_view text, uint64_t seed = 0);

// A checksum over stored bytes (XXH3-64). Debian 12 has no CRC32C library; XXH3 detects the
// same corruptions with a 64-bit tag.
inline uint64_t Checksum(std::span<const std::byte> bytes) {
  return Hash64(bytes, 0);
}

// splitmix64's finaliser: a bijective 64-bit mix with full avalanche.
constexpr uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Mixes two 64-bit values into one; order-sensitive, with full avalanche in both arguments
// (a weak combine made distinct record ids collide). Not for checksums.
constexpr uint64_t HashCombine(uint64_t a, uint64_t b) {
  return Mix64(Mix64(a) ^ (b + 0x9e3779b97f4a7c15ULL));
}

// A 128-bit hash (XXH3-128), for digests whose equality stands for equality of what they cover.
struct Hash128 {
  uint64_t low = 0;
  uint64_t high = 0;
  bool operator==(const Hash128&) const = default;
};

Hash128 Hash128Of(std::span<const std::byte> bytes, uint64_t seed = 0);

// Builds one hash over a sequence of values and byte strings, in a stable little-endian layout.
class Hasher {
 public:
  explicit Hasher(uint64_t seed = 0) : seed_(seed) {}
  Hasher& U64(uint64_t v);
  Hasher& I64(int64_t v) { return U64(static_cast<uint64_t>(v)); }
  Hasher& Bytes(std::span<const std::byte> bytes);
  Hasher& Text(std::string_view text);
  uint64_t Finish() const;
  // XXH3-128 of the same input: all 128 bits count while the input fits the 256-byte buffer;
  // past it, the earlier pieces are chained through a 64-bit seed.
  Hash128 Finish128() const;

 private:
  void Flush();
  uint64_t seed_;
  std::byte buffer_[256];
  size_t used_ = 0;
};

// Checksum() over bytes given in pieces, readable after each piece:
// ChecksumStream().Add(a).Value() == Checksum(a), and after .Add(b), Value() == Checksum(a ++ b).
// For a blob that carries a checksum of its body and is then checksummed whole: one pass.
class ChecksumStream {
 public:
  ChecksumStream();
  ~ChecksumStream();
  ChecksumStream(const ChecksumStream&) = delete;
  ChecksumStream& operator=(const ChecksumStream&) = delete;
  ChecksumStream& Add(std::span<const std::byte> bytes);
  uint64_t Value() const;

 private:
  struct State;
  std::unique_ptr<State> state_;  // XXH3's streaming state, kept out of this header
};

}  // namespace faultline
