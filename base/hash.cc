#include "base/hash.h"

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
  for (int i = 0; i < 8; ++i) {
    buffer_[used_++] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
  }
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

}  // namespace faultline
