// The keyed-state blob: how a keyed state backend serializes the key groups it owns at one
// checkpoint, and how any backend reads them back (all of them, or a rescaled subset). The heap
// backend writes it at Capture; RocksDB full snapshots and savepoints write the same format.
// docs/blob-format.md is the byte-exact specification; this file implements version 1 of it.
//
//   header    magic "FLKSTATE", u32 version, u64 blob size, u32 first and last key group,
//             u32 state count, per state: u32 id, u8 kind, text name
//   offsets   u64 per key group of the range (where its section starts), u64 end of sections
//   sections  per key group ascending: u32 group, u64 entry count, entries ascending by
//             (state id, key, user key): u32 state id, text key, text user key, text value
//   trailer   u64 XXH3-64 (seed 0) of every byte before it
// Integers are fixed-width little-endian; "text" is a u32 length and that many bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/hash.h"
#include "base/inline_function.h"
#include "base/status.h"
#include "engine/state/key_groups.h"
#include "engine/state/state_backend.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace faultline::engine {

inline constexpr uint32_t kKeyedStateBlobVersion = 1;

// The first bytes of an incremental RocksDB snapshot's keyed handle (a serialized
// proto::IncrementalKeyedStateHandle follows, docs/blob-format.md): not a keyed-state blob, so
// only the RocksDB backend restores it.
inline constexpr std::string_view kIncrementalKeyedHandleMagic = "FLINCKS1";
inline bool IsIncrementalKeyedHandle(std::span<const uint8_t> blob) {
  return blob.size() >= kIncrementalKeyedHandleMagic.size() &&
         std::memcmp(blob.data(), kIncrementalKeyedHandleMagic.data(),
                     kIncrementalKeyedHandleMagic.size()) == 0;
}
// A blob lists at most this many states; it is also every backend's registry limit ("put a
// limit on everything": a job with more states is a bug, not a workload).
inline constexpr size_t kKeyedStateBlobStatesMax = 1024;

// A registered state as a blob lists it (its id is its position in the list).
struct KeyedStateInfo {
  std::string name;
  StateKind kind;
};

bool IsKnownStateKind(uint8_t kind);

// Test seam: a mistake planted in the writer and the reader alike, as a symmetric
// encoder/decoder bug would be, so tests can show the checkers' own reader of the spec catches
// what the engine's round trip hides (tests/planted_blob_codec_bug_test.cc). kNone outside those
// tests; a writer or reader takes the setting when it is constructed or opened.
enum class PlantedBlobCodecBug : uint8_t {
  kNone,
  kValuesReversed,  // every value's bytes written, and read back, in reverse order
};
void SetPlantedBlobCodecBugForTesting(PlantedBlobCodecBug bug);
PlantedBlobCodecBug PlantedBlobCodecBugForTesting();

// The per-entry hash a backend's Digest() sums (mod 2^64) over every entry (state_backend.h):
// Hasher().Text(state name).U64(group).Text(key).Text(user key).Bytes(value).Finish().
// Not stored in the blob: the checkpoint's metadata records the digest of what was captured,
// and a restore recomputes it from what it decoded.
// Inline: a capture hashes every entry.
inline uint64_t KeyedStateEntryDigest(std::string_view state_name, KeyGroup group,
                                      std::string_view key, std::string_view user_key,
                                      std::span<const uint8_t> value) {
  // Fast path, the same bytes as the Hasher below lays out when they fit its 256-byte buffer
  // (it then hashes them once, seed 0): one copy per field and one XXH3, no calls per field.
  const size_t total = 5 * 8 + state_name.size() + key.size() + user_key.size() + value.size();
  if (total <= 256) {
    uint8_t buffer[256];
    size_t at = 0;
    const auto u64 = [&](uint64_t v) {
      std::memcpy(buffer + at, &v, 8);  // little-endian (asserted in keyed_state_blob.cc)
      at += 8;
    };
    const auto text = [&](const void* data, size_t n) {
      u64(n);
      CopyBytes(buffer + at, data, n);  // short: inline moves, not a call
      at += n;
    };
    text(state_name.data(), state_name.size());
    u64(group);
    text(key.data(), key.size());
    text(user_key.data(), user_key.size());
    text(value.data(), value.size());
    // XXH3 inline (the same value as Hash64's call; a capture hashes every entry).
    return XXH3_64bits_withSeed(buffer, at, 0);
  }
  return Hasher()
      .Text(state_name)
      .U64(group)
      .Text(key)
      .Text(user_key)
      .Bytes(std::as_bytes(value))
      .Finish();
}

// Writes one blob. Construct it with the key groups and the states (state id i is states[i]);
// then, for every key group of the range in ascending order, BeginSection(group) and Add the
// group's entries in ascending (state id, key, user key) order (keys compared as unsigned
// bytes); then Finish.
class KeyedStateBlobWriter {
 public:
  // `size_hint_bytes`: the expected size (the previous blob's), allocated once up front.
  KeyedStateBlobWriter(KeyGroupRange range, std::span<const KeyedStateInfo> states,
                       size_t size_hint_bytes);

  void BeginSection(KeyGroup group);
  // One entry of the open section.
  void Add(uint32_t state, std::string_view key, std::string_view user_key,
           std::span<const uint8_t> value) {
    FL_ASSERT(
        key.size() <= UINT32_MAX && user_key.size() <= UINT32_MAX && value.size() <= UINT32_MAX,
        "a key or value of 4 GiB or more");
    const size_t n = 16 + key.size() + user_key.size() + value.size();
    Reserve(n);
    uint8_t* at = out_.data() + at_;
    const auto field = [&at](const void* data, size_t size) {
      const auto size32 = static_cast<uint32_t>(size);
      std::memcpy(at, &size32, 4);
      CopyBytes(at + 4, data, size);
      at += 4 + size;
    };
    std::memcpy(at, &state, 4);
    at += 4;
    field(key.data(), key.size());
    field(user_key.data(), user_key.size());
    field(value.data(), value.size());
    if (reverse_values_) std::reverse(at - value.size(), at);
    at_ += n;
    ++section_entries_;
  }
  // Closes the last section and appends the trailer. Every key group of the range must have
  // had its section. Sets `checksum` to Checksum() of the returned bytes (the whole blob).
  Bytes Finish(uint64_t& checksum) &&;

 private:
  void U8(uint8_t v) { Put(&v, 1); }
  void U32(uint32_t v) { Put(&v, 4); }
  void U64(uint64_t v) { Put(&v, 8); }
  void Text(std::string_view text);
  void PatchU64(size_t at, uint64_t v);
  void CloseSection();
  // Room for n more bytes (grown geometrically; zero-filled as a vector's growth is).
  void Reserve(size_t n) {
    if (n > out_.size() - at_) out_.resize(std::max(2 * out_.size(), at_ + n + 256));
  }
  // Appends n bytes (integers: their little-endian bytes); cut to size by Finish.
  void Put(const void* bytes, size_t n) {
    Reserve(n);
    if (n != 0) std::memcpy(out_.data() + at_, bytes, n);
    at_ += n;
  }

  const KeyGroupRange range_;
  Bytes out_;
  size_t at_ = 0;
  size_t offsets_at_ = 0;        // where the offset table starts
  uint32_t sections_begun_ = 0;  // sections begun so far
  size_t count_at_ = 0;          // where the open section's entry count goes
  uint64_t section_entries_ = 0;
  bool reverse_values_ = false;  // the planted codec bug (test seam)
};

// Reads one blob. Open verifies everything but the sections (prefix, size, trailer checksum,
// version, state registry, offset table); ReadSection verifies a section as it reads it. Any
// violation is a DataLoss error naming the blob (and the key group). The reader borrows the
// blob's bytes: they must outlive it.
class KeyedStateBlobReader {
 public:
  // `name`: the blob's name, for errors. `verify_checksum` is off only under the skip-checksum
  // teaching switch.
  static Result<KeyedStateBlobReader> Open(std::span<const uint8_t> data, std::string_view name,
                                           bool verify_checksum);

  KeyGroupRange range() const { return range_; }
  // In the blob's order; an entry's `state` below is an index into this list.
  const std::vector<KeyedStateInfo>& states() const { return states_; }

  using EntryVisitor =
      InlineFunction<void(size_t state, std::string_view key, std::string_view user_key,
                          std::span<const uint8_t> value),
                     32>;
  // Visits the entries of key group `group` (inside range()) in their order.
  Status ReadSection(KeyGroup group, EntryVisitor visit) const;

 private:
  KeyedStateBlobReader() = default;
  Status Corrupt(const std::string& what) const;
  Status CheckFixedParts(std::span<const uint8_t> data, bool verify_checksum) const;
  class Cursor;
  Status ReadRegistry(Cursor& in);
  Status ReadOffsets(Cursor& in);

  std::string name_;
  std::span<const uint8_t> body_;  // every byte before the trailer
  KeyGroupRange range_;
  std::vector<KeyedStateInfo> states_;
  std::map<uint32_t, size_t> index_of_state_id_;  // blob state id -> index in `states_`
  std::vector<uint64_t> section_offsets_;         // range_.size() + 1 entries
  bool reverse_values_ = false;                   // the planted codec bug (test seam)
};

// ---- What every backend shares --------------------------------------------------------------

// A backend's registry rule: finds `name` in `states` (its id is its position) or appends it. An
// existing name must keep its kind (InvalidArgument); a name has 1 to 1024 bytes
// (InvalidArgument); at most kKeyedStateBlobStatesMax states (ResourceExhausted).
Result<StateId> FindOrAddState(std::vector<KeyedStateInfo>& states, std::string_view name,
                               StateKind kind);

// Restore's reading, for any backend: visits every entry of `sources` in the key groups of
// `range`, each with its state's id in `states` (states are matched by name, and those the blobs
// add are appended). A blob that breaks the format is DataLoss naming it; two blobs holding one
// key group of the range is InvalidArgument. Entries come blob by blob, key group by key group;
// a backend builds its new state aside and keeps it only when this returns Ok.
using RestoredEntryVisitor =
    InlineFunction<void(StateId state, KeyGroup group, std::string_view key,
                        std::string_view user_key, std::span<const uint8_t> value),
                   32>;
Status ReadRestoreSources(const std::vector<RestoreSource>& sources, KeyGroupRange range,
                          std::vector<KeyedStateInfo>& states, RestoredEntryVisitor visit);

}  // namespace faultline::engine
