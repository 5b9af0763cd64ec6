#include "checkers/keyed_state.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <span>

#include "checkers/blob_reader.h"

namespace faultline::checkers {
namespace {

void PutLittleEndian(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void StoreLittleEndian(uint64_t v, uint8_t* out) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, &v, 8);
  } else {
    for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}

uint64_t GetLittleEndian(std::span<const uint8_t> in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v |= uint64_t{in[at + i]} << (8 * i);
  return v;
}

Bytes I64(int64_t v) {
  Bytes out;
  out.reserve(8);
  PutLittleEndian(out, static_cast<uint64_t>(v));
  return out;
}

}  // namespace

void PutEntry(StateEntries& entries, StateEntryName name, Bytes value) {
  auto at =
      std::lower_bound(entries.begin(), entries.end(), name,
                       [](const auto& entry, const StateEntryName& n) { return entry.first < n; });
  if (at != entries.end() && at->first == name) {
    at->second = std::move(value);
    return;
  }
  entries.emplace(at, std::move(name), std::move(value));
}

Result<std::map<std::string, KeySnapshot>> ReadKeyedSnapshot(const Bytes& blob,
                                                             std::string_view blob_name,
                                                             GroupRange key_groups,
                                                             uint32_t max_parallelism) {
  // Read into the result while decoding (no copy of each entry first). The errors keep their
  // order: the blob's own (DataLoss) first, then its range, then the first misplaced key or
  // malformed provenance in the blob's order.
  std::map<std::string, KeySnapshot> keys;
  Status first_error;
  const auto visit = [&](const BlobEntryView& e) {
    if (!first_error.ok()) return;
    const uint32_t group = GroupOfKey(e.key, max_parallelism);
    if (group != e.group) {
      first_error =
          FailedPreconditionError(std::string(blob_name) + ": key " + std::string(e.key) +
                                  " is in the section of key group " + std::to_string(e.group) +
                                  ", its key group is " + std::to_string(group));
      return;
    }
    KeySnapshot& snapshot = keys[std::string(e.key)];
    if (e.state != kProvenanceStateName) {
      PutEntry(snapshot.entries, {std::string(e.state), std::string(e.user_key)},
               Bytes(e.value.begin(), e.value.end()));
      return;
    }
    if (e.value.size() != 16) {
      first_error = DataLossError(std::string(blob_name) + ": provenance of key " +
                                  std::string(e.key) + " is not 16 bytes");
      return;
    }
    snapshot.provenance =
        engine::Provenance{GetLittleEndian(e.value, 0), GetLittleEndian(e.value, 8)};
  };
  FL_ASSIGN_OR_RETURN(const DecodedBlob decoded, VisitKeyedBlob(blob, blob_name, visit));
  const auto range_text = [](GroupRange r) {
    return "[" + std::to_string(r.first) + ", " + std::to_string(r.last) + "]";
  };
  if (!(decoded.range == key_groups) && !(decoded.range.empty() && key_groups.empty())) {
    return FailedPreconditionError(std::string(blob_name) + ": holds key groups " +
                                   range_text(decoded.range) + ", the subtask owns " +
                                   range_text(key_groups));
  }
  FL_RETURN_IF_ERROR(first_error);
  return keys;
}

StateEntries EntriesOf(const KeyState& state) {
  StateEntries out;
  out.reserve(state.values.size() + state.reducing.size() + state.lists.size() + state.maps.size());
  for (const auto& [name, v] : state.values) PutEntry(out, {name, ""}, I64(v));
  for (const auto& [name, v] : state.reducing) PutEntry(out, {name, ""}, I64(v));
  for (const auto& [name, list] : state.lists) {
    Bytes bytes;
    bytes.reserve(8 * list.size());
    for (int64_t v : list) PutLittleEndian(bytes, static_cast<uint64_t>(v));
    PutEntry(out, {name, ""}, std::move(bytes));
  }
  for (const auto& [name, entries] : state.maps) {
    for (const auto& [user_key, v] : entries) PutEntry(out, {name, user_key}, I64(v));
  }
  return out;
}

void KeyDigest::Add(uint32_t group, std::string_view key, std::string_view state,
                    std::string_view user_key, std::span<const uint8_t> value) {
  // The group (4 bytes), then the four fields, each after its 4-byte little-endian length, hashed
  // at once (built in place: this runs once per entry of every snapshot); a long entry through
  // Hasher.
  std::byte buffer[256];
  const size_t size = 20 + key.size() + state.size() + user_key.size() + value.size();
  Hash128 h;
  if (size > sizeof buffer) {
    h = Hasher()
            .U64(group)
            .Text(key)
            .Text(state)
            .Text(user_key)
            .Bytes(std::as_bytes(value))
            .Finish128();
  } else {
    size_t at = 0;
    const auto put_u32 = [&buffer, &at](uint32_t v) {  // little-endian
      if constexpr (std::endian::native != std::endian::little) {
        v = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
      }
      std::memcpy(buffer + at, &v, 4);
      at += 4;
    };
    put_u32(group);
    const auto put = [&buffer, &at, &put_u32](const void* data, size_t length) {
      put_u32(static_cast<uint32_t>(length));
      if (length > 0) std::memcpy(buffer + at, data, length);
      at += length;
    };
    put(key.data(), key.size());
    put(state.data(), state.size());
    put(user_key.data(), user_key.size());
    put(value.data(), value.size());
    h = Hash128Of(std::span<const std::byte>(buffer, at));
  }
  sum.low += h.low;
  sum.high += h.high;
}

namespace {

// Whether a state name is in more than one of `state`'s kinds (EntriesOf keeps one of them).
bool NameInTwoKinds(const KeyState& state) {
  const int kinds = int{!state.values.empty()} + int{!state.reducing.empty()} +
                    int{!state.lists.empty()} + int{!state.maps.empty()};
  if (kinds < 2) return false;
  const auto elsewhere = [&state](const std::string& name, const void* own) {
    return (&state.values != own && state.values.contains(name)) ||
           (&state.reducing != own && state.reducing.contains(name)) ||
           (&state.lists != own && state.lists.contains(name)) ||
           (&state.maps != own && state.maps.contains(name));
  };
  for (const auto& entry : state.values) {
    if (elsewhere(entry.first, &state.values)) return true;
  }
  for (const auto& entry : state.reducing) {
    if (elsewhere(entry.first, &state.reducing)) return true;
  }
  for (const auto& entry : state.lists) {
    if (elsewhere(entry.first, &state.lists)) return true;
  }
  return false;  // a map's name elsewhere was found from that other kind
}

}  // namespace

std::optional<KeyDigest> DigestOf(uint32_t group, std::string_view key, const KeyState& state) {
  if (NameInTwoKinds(state)) return std::nullopt;
  KeyDigest digest;
  uint8_t i64[8];
  const auto put = [&i64](int64_t v) {
    StoreLittleEndian(static_cast<uint64_t>(v), i64);
    return std::span<const uint8_t>(i64, 8);
  };
  for (const auto& [name, v] : state.values) digest.Add(group, key, name, "", put(v));
  for (const auto& [name, v] : state.reducing) digest.Add(group, key, name, "", put(v));
  for (const auto& [name, list] : state.lists) {
    Bytes bytes;
    bytes.reserve(8 * list.size());
    for (int64_t v : list) PutLittleEndian(bytes, static_cast<uint64_t>(v));
    digest.Add(group, key, name, "", bytes);
  }
  for (const auto& [name, entries] : state.maps) {
    for (const auto& [user_key, v] : entries) digest.Add(group, key, name, user_key, put(v));
  }
  uint8_t provenance[16];
  StoreLittleEndian(state.provenance.count, provenance);
  StoreLittleEndian(state.provenance.hash_sum, provenance + 8);
  digest.Add(group, key, kProvenanceStateName, "", provenance);
  return digest;
}

std::optional<KeyDigest> DigestOfBlob(const Bytes& blob, std::string_view blob_name,
                                      GroupRange key_groups) {
  KeyDigest out;
  bool clean = true;
  const auto visit = [&](const BlobEntryView& e) {
    if (!clean) return;
    if (e.state == kProvenanceStateName && (e.value.size() != 16 || !e.user_key.empty())) {
      clean = false;
      return;
    }
    out.Add(e.group, e.key, e.state, e.user_key, e.value);
  };
  Result<DecodedBlob> decoded = VisitKeyedBlob(blob, blob_name, visit);
  if (!clean || !decoded.ok()) return std::nullopt;
  if (!(decoded->range == key_groups) && !(decoded->range.empty() && key_groups.empty())) {
    return std::nullopt;
  }
  return out;
}

std::string DescribeValue(const Bytes* value) {
  if (value == nullptr) return "absent";
  if (value->size() == 8) return std::to_string(static_cast<int64_t>(GetLittleEndian(*value, 0)));
  if (value->empty() || value->size() % 8 != 0 || value->size() > 8 * 16) {
    return "<" + std::to_string(value->size()) + " bytes>";
  }
  std::string out = "[";
  for (size_t at = 0; at < value->size(); at += 8) {
    if (at > 0) out += ", ";
    out += std::to_string(static_cast<int64_t>(GetLittleEndian(*value, at)));
  }
  return out + "]";
}

}  // namespace faultline::checkers
