// The checkers' own reader of the keyed-state blob, written from docs/blob-format.md alone
// (version 1): no engine state backend, no engine blob code. A mistake the engine's writer and
// reader make the same way (a value encoded and decoded wrongly, a section mislabelled) then
// shows here instead of cancelling out. It validates everything the spec's "What a reader must
// validate" lists, always including the trailer checksum, and reads every section.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "checkers/key_groups.h"

namespace faultline::checkers {

// One entry of a decoded blob, its state named (ids are local to a blob).
struct BlobEntry {
  std::string state;
  uint32_t group = 0;
  std::string key;
  std::string user_key;
  std::vector<uint8_t> value;
};

struct BlobState {
  std::string name;
  uint8_t kind = 0;  // 1 value, 2 list, 3 map, 4 reducing
};

struct DecodedBlob {
  GroupRange range;
  std::vector<BlobState> states;   // in the blob's order
  std::vector<BlobEntry> entries;  // section by section, each in the blob's order
};

// DataLoss naming `name` (and the key group, for a section) when the blob breaks the spec.
Result<DecodedBlob> DecodeKeyedBlob(std::span<const uint8_t> blob, std::string_view name);

// One entry as the reader meets it: views of the blob's bytes (and of the decoder's state
// name), valid only during the call that hands it over.
struct BlobEntryView {
  std::string_view state;
  uint32_t group = 0;
  std::string_view key;
  std::string_view user_key;
  std::span<const uint8_t> value;
};

// DecodeKeyedBlob without keeping the entries: the same checks in the same order and the same
// errors, each entry handed to `visit` (in the blob's order) once it passed its checks; the
// result's `entries` stay empty. An entry handed over may belong to a blob that a later check
// refuses: the caller keeps what it builds only when the result is ok.
Result<DecodedBlob> VisitKeyedBlob(std::span<const uint8_t> blob, std::string_view name,
                                   const std::function<void(const BlobEntryView&)>& visit);

// The spec's state digest ("State digest"): the sum (mod 2^64) over entries of
// Hasher().Text(state).U64(group).Text(key).Text(user key).Bytes(value).Finish().
uint64_t StateDigestOf(const std::vector<BlobEntry>& entries);

}  // namespace faultline::checkers
