// Keyed state in one comparable shape for the cut checker: per key, its provenance and its
// entries ((state name, user key) -> value bytes), read either from a snapshot blob or from the
// reference's KeyState. Value bytes follow the job API's encoding (documented, restated here,
// not shared): value and reducing states are one little-endian i64 under user key "", a list is
// its i64s concatenated under "", a map entry is one i64 under its user key. The hidden
// "__provenance" state is two little-endian u64, count then hash-sum.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/hash.h"
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

// A key's entries and provenance in one order-independent 128-bit digest: the sum of each entry's
// XXH3-128 hash of (state name, user key, value bytes), the provenance an entry of its own (its 16
// bytes under kProvenanceStateName). Equal digests stand for equal entries (bar a 2^-128
// chance); a difference says nothing about where: the entry-by-entry comparison names that.
struct KeyDigest {
  Hash128 sum;
  void Add(std::string_view state, std::string_view user_key, std::span<const uint8_t> value);
  bool operator==(const KeyDigest&) const = default;
};

// The digest of the entries EntriesOf(state) gives plus the provenance; nullopt when a state name
// is in more than one kind (EntriesOf would keep one of them).
std::optional<KeyDigest> DigestOf(const KeyState& state);

// Per key, the digest of its entries in `blob`, read without building them: nullopt whenever
// ReadKeyedSnapshot would report anything (any error of the blob, its range or a key) or a
// provenance is not one plain entry, so that a caller can fall back to ReadKeyedSnapshot for
// the exact finding. The keys view the blob's bytes; `out` is cleared first.
struct SnapshotKey {
  KeyDigest digest;
  uint32_t group = 0;  // its key group (every entry of the key is in its section)
};
using KeyDigests = std::unordered_map<std::string_view, SnapshotKey>;
bool SnapshotDigests(const Bytes& blob, std::string_view blob_name, GroupRange key_groups,
                     uint32_t max_parallelism, KeyDigests& out);

// "1234" for an i64, "[1, 2, 3]" for a list, "<n bytes>" otherwise; "absent" for null.
std::string DescribeValue(const Bytes* value);

}  // namespace faultline::checkers
