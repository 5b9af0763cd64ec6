// Stored form of the checkpoint metadata blob and of the coordinator's HA pointer: the
// serialized protobuf message (engine/proto/checkpoint.proto) followed by an 8-byte
// little-endian XXH3-64 checksum of it. The checksum catches storage corruption that protobuf
// parsing would accept silently (a flipped bit in a varint is usually still a valid message).
//
// This header names the messages without including the generated header, which is heavy:
// callers that build or read the messages include "engine/proto/checkpoint.pb.h" themselves.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace faultline::engine {

namespace proto {
class CheckpointMetadata;
class HaPointer;
}  // namespace proto

using Bytes = std::vector<uint8_t>;

// The only layout versions this build writes and reads.
inline constexpr uint32_t kMetadataFormatVersion = 1;
inline constexpr uint32_t kHaPointerFormatVersion = 1;

// Fails with InvalidArgument when format_version is not kMetadataFormatVersion (the caller
// forgot to set it) or the message is too large for protobuf (2 GiB).
Result<Bytes> EncodeMetadata(const proto::CheckpointMetadata& metadata);
// Fails with DataLoss naming `blob_name` when the bytes are truncated, fail their checksum, do
// not parse, or carry a format version this build does not read.
Result<proto::CheckpointMetadata> DecodeMetadata(const Bytes& data, std::string_view blob_name);

// The same pair for the HA pointer; `key` names the HA store key in error messages.
Result<Bytes> EncodeHaPointer(const proto::HaPointer& pointer);
Result<proto::HaPointer> DecodeHaPointer(const Bytes& data, std::string_view key);

}  // namespace faultline::engine
