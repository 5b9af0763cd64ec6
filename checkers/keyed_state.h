// Keyed state in one comparable shape for the cut checker: per key, its provenance and its
// entries ((state name, user key) -> value bytes), read either from a snapshot blob or from the
// reference's KeyState. Value bytes follow the job API's encoding (documented, restated here,
// not shared): value and reducing states are one little-endian i64 under user key "", a list is
// its i64s concatenated under "", a map entry is one i64 under its user key. The hidden
// "__provenance" state is two little-endian u64, count then hash-sum.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "checkers/reference.h"
#include "engine/state/key_groups.h"

namespace faultline::checkers {

using Bytes = std::vector<uint8_t>;
using StateEntries = std::map<std::pair<std::string, std::string>, Bytes>;

struct KeySnapshot {
  engine::Provenance provenance;
  StateEntries entries;  // every state but the provenance
};

inline constexpr std::string_view kProvenanceStateName = "__provenance";

// Restores `blob` into a fresh heap backend over `key_groups` (the blob's own checksum is
// verified) and reads it per key. DataLoss naming `blob_name` when it does not restore or a
// provenance value is malformed.
Result<std::map<std::string, KeySnapshot>> ReadKeyedSnapshot(const Bytes& blob,
                                                             std::string_view blob_name,
                                                             engine::KeyGroupRange key_groups);

StateEntries EntriesOf(const KeyState& state);

// "1234" for an i64, "[1, 2, 3]" for a list, "<n bytes>" otherwise; "absent" for null.
std::string DescribeValue(const Bytes* value);

}  // namespace faultline::checkers
