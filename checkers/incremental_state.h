// The checkers' own reading of an incremental RocksDB snapshot (engine/proto/checkpoint.proto's
// IncrementalKeyedStateHandle, docs/blob-format.md "Incremental keyed handles"): its files are
// placed in an in-memory file system, opened by RocksDB read-only, and its rows decoded by the
// documented key layout, without the engine's backend. The result is the keyed-state blob of
// the same entries (docs/blob-format.md), written here by the spec, so every reading of keyed
// blobs (EO-CUT's, REC's) applies unchanged.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "checkers/run_view.h"

namespace faultline::checkers {

// Whether `blob` is an incremental keyed handle ("FLINCKS1" and a serialized handle).
bool IsIncrementalHandle(std::span<const uint8_t> blob);

// A shared file's stored bytes by its blob name, size and checksum (as the handle records
// them); null when there is none.
using SharedFileLookup =
    std::function<const Bytes*(const std::string& blob, uint64_t size, uint64_t checksum)>;

// The keyed-state blob of the handle's entries. DataLoss naming `name` when the handle, a file
// or a row breaks the spec; NotFound naming the file when `lookup` has none.
Result<Bytes> KeyedBlobOfIncremental(std::span<const uint8_t> handle, std::string_view name,
                                     const SharedFileLookup& lookup);

}  // namespace faultline::checkers
