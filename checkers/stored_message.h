// The checkers' own decoder of the engine's two stored protobuf messages, from docs/engine.md
// ("Checkpoint storage"): the checkpoint metadata blob (`.../_metadata`) and the HA pointer are
// the serialized message (engine/proto/checkpoint.proto, the schema) followed by an 8-byte
// little-endian XXH3-64 (seed 0) of it, and carry format_version 1. Not engine/checkpoint's
// decoder: a trailer or version mistake the engine makes on both sides then shows here.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/proto/checkpoint.pb.h"

namespace faultline::checkers {

// DataLoss naming `where` when the bytes are shorter than the trailer, fail it, do not parse, or
// carry a format version other than 1.
Result<engine::proto::CheckpointMetadata> ReadMetadataBlob(const std::vector<uint8_t>& bytes,
                                                           std::string_view where);
Result<engine::proto::HaPointer> ReadHaPointer(const std::vector<uint8_t>& bytes,
                                               std::string_view where);

}  // namespace faultline::checkers
