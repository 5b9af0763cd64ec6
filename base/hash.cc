#include "base/hash.h"

#include <bit>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace faultline {

uint64_t Hash64(std::span<const std::byte> bytes, uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

uint64_t Hash64(std::string_view text, uint64_t seed) {
  return XXH3_64bits_withSeed(text.data(), text.size(), seed);
}

Hasher& Hasher::U64(uint64_t v) {
  if (used_ + 8 > sizeof buffer_) Flush();
  if constexpr (std::endian::native != std::endian::little) {
    v = ((v & 0x00000000000000ffULL) << 56) | ((v & 0x000000000000ff00ULL) << 40) |
        ((v & 0x0000000000ff0000ULL) << 24) | ((v & 0x00000000ff000000ULL) << 8) |
        ((v & 0x000000ff00000000ULL) >> 8) | ((v & 0x0000ff0000000000ULL) >> 24) |
        ((v & 0x00ff000000000000ULL) >> 40) | ((v & 0xff00000000000000ULL) >> 56);
  }
  std::memcpy(buffer_ + used_, &v, 8);  // little-endian, as the layout says
  used_ += 8;
  return *this;
}

Hasher& Hasher::Bytes(std::span<const std::byte> bytes) {
  U64(bytes.size());
  if (used_ + bytes.size() > sizeof buffer_) {
    Flush();
    seed_ = Hash64(bytes, seed_);
    return *this;
  }
  if (!bytes.empty())
    std::memcpy(buffer_ + used_, bytes.data(), bytes.size());  // data() may be null
  used_ += bytes.size();
  return *this;
}

Hasher& Hasher::Text(std::string_view text) {
  return Bytes(std::as_bytes(std::span<const char>(text.data(), text.size())));
}

void Hasher::Flush() {
  seed_ = Hash64(std::span<const std::byte>(buffer_, used_), seed_);
  used_ = 0;
}

uint64_t Hasher::Finish() const {
  return Hash64(std::span<const std::byte>(buffer_, used_), seed_);
}

Hash128 Hash128Of(std::span<const std::byte> bytes, uint64_t seed) {
  const XXH128_hash_t h = XXH3_128bits_withSeed(bytes.data(), bytes.size(), seed);
  return Hash128{h.low64, h.high64};
}

Hash128 Hasher::Finish128() const {
  const XXH128_hash_t h = XXH3_128bits_withSeed(buffer_, used_, seed_);
  return Hash128{h.low64, h.high64};
}

struct ChecksumStream::State {
  XXH3_state_t xxh;
};

ChecksumStream::ChecksumStream() : state_(std::make_unique<State>()) {
  XXH3_64bits_reset(&state_->xxh);  // seed 0, as Checksum
}
ChecksumStream::~ChecksumStream() = default;

ChecksumStream& ChecksumStream::Add(std::span<const std::byte> bytes) {
  XXH3_64bits_update(&state_->xxh, bytes.data(), bytes.size());
  return *this;
}

uint64_t ChecksumStream::Value() const {
  return XXH3_64bits_digest(&state_->xxh);
}

}  // namespace faultline
