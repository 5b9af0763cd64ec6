#include "engine/checkpoint/metadata.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <climits>
#include <cstddef>
#include <span>
#include <string>

#include "base/hash.h"
#include "engine/proto/checkpoint.pb.h"

namespace faultline::engine {
namespace {

constexpr size_t kChecksumBytes = 8;

uint64_t ChecksumOf(std::span<const uint8_t> bytes) {
  return Checksum(std::as_bytes(bytes));
}

// Serializes `message` and appends the checksum trailer. Deterministic serialization keeps the
// bytes (and so blob checksums in the trace) identical between runs even if a map field is
// added later; today's messages have none.
Result<Bytes> EncodeWithChecksum(const google::protobuf::MessageLite& message) {
  const size_t size_bytes = message.ByteSizeLong();
  if (size_bytes > static_cast<size_t>(INT_MAX)) {
    return InvalidArgumentError(message.GetTypeName() + " of " + std::to_string(size_bytes) +
                                " bytes is above protobuf's 2 GiB limit");
  }
  Bytes out(size_bytes + kChecksumBytes);
  {
    google::protobuf::io::ArrayOutputStream array(out.data(), static_cast<int>(size_bytes));
    google::protobuf::io::CodedOutputStream coded(&array);
    coded.SetSerializationDeterministic(true);
    message.SerializeWithCachedSizes(&coded);
    FL_ASSERT(!coded.HadError() && coded.ByteCount() == static_cast<int64_t>(size_bytes));
  }
  const uint64_t checksum = ChecksumOf(std::span<const uint8_t>(out.data(), size_bytes));
  for (size_t i = 0; i < kChecksumBytes; ++i) {
    out[size_bytes + i] = static_cast<uint8_t>(checksum >> (8 * i));
  }
  return out;
}

// Verifies the trailer and parses the message; every failure names `where`.
Status DecodeWithChecksum(const Bytes& data, std::string_view where,
                          google::protobuf::MessageLite* message) {
  const auto fail = [where](const std::string& what) {
    return DataLossError(std::string(where) + ": " + what);
  };
  if (data.size() < kChecksumBytes) {
    return fail("truncated: " + std::to_string(data.size()) +
                " bytes, shorter than the checksum trailer");
  }
  const size_t size_bytes = data.size() - kChecksumBytes;
  uint64_t stored = 0;
  for (size_t i = 0; i < kChecksumBytes; ++i) {
    stored |= uint64_t{data[size_bytes + i]} << (8 * i);
  }
  if (stored != ChecksumOf(std::span<const uint8_t>(data.data(), size_bytes))) {
    return fail("checksum mismatch (corrupt or truncated)");
  }
  if (size_bytes > static_cast<size_t>(INT_MAX) ||
      !message->ParseFromArray(data.data(), static_cast<int>(size_bytes))) {
    return fail("not a valid " + message->GetTypeName() + " message");
  }
  return Status::Ok();
}

Status CheckVersion(uint32_t found, uint32_t supported, std::string_view where) {
  if (found == supported) return Status::Ok();
  return DataLossError(std::string(where) + ": format version " + std::to_string(found) +
                       " is not supported (this build reads version " + std::to_string(supported) +
                       ")");
}

Status CheckVersionToWrite(uint32_t found, uint32_t supported, std::string_view type_name) {
  if (found == supported) return Status::Ok();
  return InvalidArgumentError(std::string(type_name) + " has format_version " +
                              std::to_string(found) + "; this build writes version " +
                              std::to_string(supported));
}

}  // namespace

Result<Bytes> EncodeMetadata(const proto::CheckpointMetadata& metadata) {
  FL_RETURN_IF_ERROR(CheckVersionToWrite(metadata.format_version(), kMetadataFormatVersion,
                                         "checkpoint metadata"));
  return EncodeWithChecksum(metadata);
}

Result<proto::CheckpointMetadata> DecodeMetadata(const Bytes& data, std::string_view blob_name) {
  const std::string where = "checkpoint metadata blob " + std::string(blob_name);
  proto::CheckpointMetadata metadata;
  FL_RETURN_IF_ERROR(DecodeWithChecksum(data, where, &metadata));
  FL_RETURN_IF_ERROR(CheckVersion(metadata.format_version(), kMetadataFormatVersion, where));
  return metadata;
}

Result<Bytes> EncodeHaPointer(const proto::HaPointer& pointer) {
  FL_RETURN_IF_ERROR(
      CheckVersionToWrite(pointer.format_version(), kHaPointerFormatVersion, "HA pointer"));
  return EncodeWithChecksum(pointer);
}

Result<proto::HaPointer> DecodeHaPointer(const Bytes& data, std::string_view key) {
  const std::string where = "HA pointer at key " + std::string(key);
  proto::HaPointer pointer;
  FL_RETURN_IF_ERROR(DecodeWithChecksum(data, where, &pointer));
  FL_RETURN_IF_ERROR(CheckVersion(pointer.format_version(), kHaPointerFormatVersion, where));
  return pointer;
}

}  // namespace faultline::engine
