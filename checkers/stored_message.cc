#include "checkers/stored_message.h"

#include <climits>
#include <span>
#include <string>

#include "base/hash.h"

namespace faultline::checkers {
namespace {

constexpr size_t kTrailer = 8;
constexpr uint32_t kFormatVersion = 1;

template <typename Message>
Result<Message> Read(const std::vector<uint8_t>& bytes, std::string_view where) {
  const auto fail = [where](const std::string& what) {
    return DataLossError(std::string(where) + ": " + what);
  };
  if (bytes.size() < kTrailer) return fail("shorter than its 8-byte trailer");
  const size_t body = bytes.size() - kTrailer;
  uint64_t stored = 0;
  for (size_t i = 0; i < kTrailer; ++i) stored |= uint64_t{bytes[body + i]} << (8 * i);
  if (stored != Hash64(std::as_bytes(std::span<const uint8_t>(bytes.data(), body)), 0)) {
    return fail("trailer checksum mismatch");
  }
  Message message;
  if (body > static_cast<size_t>(INT_MAX) ||
      !message.ParseFromArray(bytes.data(), static_cast<int>(body))) {
    return fail("not a valid " + message.GetTypeName() + " message");
  }
  if (message.format_version() != kFormatVersion) {
    return fail("format version " + std::to_string(message.format_version()) +
                ", the checkers read version 1");
  }
  return message;
}

}  // namespace

Result<engine::proto::CheckpointMetadata> ReadMetadataBlob(const std::vector<uint8_t>& bytes,
                                                           std::string_view where) {
  return Read<engine::proto::CheckpointMetadata>(bytes, where);
}

Result<engine::proto::HaPointer> ReadHaPointer(const std::vector<uint8_t>& bytes,
                                               std::string_view where) {
  return Read<engine::proto::HaPointer>(bytes, where);
}

}  // namespace faultline::checkers
