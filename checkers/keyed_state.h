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

// Keys' entries and provenances in one order-independent 128-bit digest: the sum of each entry's
// XXH3-128 hash of (key group, key, state name, user key, value bytes), a key's provenance an
// entry of its own (its 16 bytes under kProvenanceStateName). Digests add: a subtask's is the sum
// of its keys'. The key and its group are in every entry's hash, so a value moved to another key,
// or an entry in another key group's section, changes the sum too. Equal digests stand for equal
// entries (bar a 2^-128 chance); a difference says nothing about where: the entry-by-entry
// comparison names that.
struct KeyDigest {
  Hash128 sum;
  void Add(uint32_t group, std::string_view key, std::string_view state, std::string_view user_key,
           std::span<const uint8_t> value);
  KeyDigest& operator+=(const KeyDigest& other) {
    sum.low += other.sum.low;
    sum.high += other.sum.high;
    return *this;
  }
  bool operator==(const KeyDigest&) const = default;
};

// The digest of `key`'s entries EntriesOf(state) gives plus its provenance, in key group `group`
// (GroupOfKey's); nullopt when a state name is in more than one kind (EntriesOf would keep one of
// them).
std::optional<KeyDigest> DigestOf(uint32_t group, std::string_view key, const KeyState& state);

// The digest of every entry in `blob` (each with the key group of its section), read without
// building the entries: nullopt when the blob breaks the spec, holds other key groups than
// `key_groups` or has a provenance that is not one plain 16-byte entry. A key in another group's
// section is not refused here: the entry's hash then differs from the reference's. Whenever the
// digest equals the reference's, ReadKeyedSnapshot reads the reference's entries; otherwise a
// caller falls back to ReadKeyedSnapshot for the exact finding.
std::optional<KeyDigest> DigestOfBlob(const Bytes& blob, std::string_view blob_name,
                                      GroupRange key_groups);

// "1234" for an i64, "[1, 2, 3]" for a list, "<n bytes>" otherwise; "absent" for null.
std::string DescribeValue(const Bytes* value);

}  // namespace faultline::checkers
