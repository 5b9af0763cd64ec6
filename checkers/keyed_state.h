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
#include "checkers/key_groups.h"
#include "checkers/reference.h"

namespace faultline::checkers {

using Bytes = std::vector<uint8_t>;
// (state name, user key) -> value, sorted by name, names unique: a flat map (a key has a few).
using StateEntryName = std::pair<std::string, std::string>;
using StateEntries = std::vector<std::pair<StateEntryName, Bytes>>;

// Sets `name` to `value` in `entries`, keeping them sorted (std::map::insert_or_assign).
void PutEntry(StateEntries& entries, StateEntryName name, Bytes value);

struct KeySnapshot {
  engine::Provenance provenance;
  StateEntries entries;  // every state but the provenance
};

inline constexpr std::string_view kProvenanceStateName = "__provenance";

// Decodes `blob` with the checkers' own reader (checkers/blob_reader.h, from the spec) and reads
// it per key. DataLoss naming `blob_name` when it breaks the spec or a provenance value is
// malformed; FailedPrecondition (an engine mistake, not storage damage) when its key-group range
// is not `key_groups` or a key sits in a section other than its key group's, computed with the
// checkers' own key-group math over `max_parallelism`.
Result<std::map<std::string, KeySnapshot>> ReadKeyedSnapshot(const Bytes& blob,
                                                             std::string_view blob_name,
                                                             GroupRange key_groups,
                                                             uint32_t max_parallelism);

StateEntries EntriesOf(const KeyState& state);

// "1234" for an i64, "[1, 2, 3]" for a list, "<n bytes>" otherwise; "absent" for null.
std::string DescribeValue(const Bytes* value);

}  // namespace faultline::checkers
