#include "checkers/keyed_state.h"

#include <algorithm>
#include <cstring>
#include <span>

#include "checkers/blob_reader.h"

namespace faultline::checkers {
namespace {

void PutLittleEndian(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
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

void KeyDigest::Add(std::string_view state, std::string_view user_key,
                    std::span<const uint8_t> value) {
  // The three fields, each after its 4-byte little-endian length, hashed at once (built in
  // place: this runs once per entry of every snapshot); a long entry through Hasher.
  std::byte buffer[256];
  const size_t size = 12 + state.size() + user_key.size() + value.size();
  Hash128 h;
  if (size > sizeof buffer) {
    h = Hasher().Text(state).Text(user_key).Bytes(std::as_bytes(value)).Finish128();
  } else {
    size_t at = 0;
    const auto put = [&buffer, &at](const void* data, size_t length) {
      for (size_t i = 0; i < 4; ++i) buffer[at++] = static_cast<std::byte>(length >> (8 * i));
      if (length > 0) std::memcpy(buffer + at, data, length);
      at += length;
    };
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

std::optional<KeyDigest> DigestOf(const KeyState& state) {
  if (NameInTwoKinds(state)) return std::nullopt;
  KeyDigest digest;
  uint8_t i64[8];
  const auto put = [&i64](int64_t v) {
    for (int i = 0; i < 8; ++i) i64[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
    return std::span<const uint8_t>(i64, 8);
  };
  for (const auto& [name, v] : state.values) digest.Add(name, "", put(v));
  for (const auto& [name, v] : state.reducing) digest.Add(name, "", put(v));
  for (const auto& [name, list] : state.lists) {
    Bytes bytes;
    bytes.reserve(8 * list.size());
    for (int64_t v : list) PutLittleEndian(bytes, static_cast<uint64_t>(v));
    digest.Add(name, "", bytes);
  }
  for (const auto& [name, entries] : state.maps) {
    for (const auto& [user_key, v] : entries) digest.Add(name, user_key, put(v));
  }
  uint8_t provenance[16];
  for (int i = 0; i < 8; ++i) {
    provenance[i] = static_cast<uint8_t>(state.provenance.count >> (8 * i));
    provenance[8 + i] = static_cast<uint8_t>(state.provenance.hash_sum >> (8 * i));
  }
  digest.Add(kProvenanceStateName, "", provenance);
  return digest;
}

bool SnapshotDigests(const Bytes& blob, std::string_view blob_name, GroupRange key_groups,
                     uint32_t max_parallelism, KeyDigests& out) {
  out.clear();
  bool clean = true;
  const auto visit = [&](const BlobEntryView& e) {
    if (!clean) return;
    auto [it, inserted] = out.try_emplace(e.key);
    if (inserted) it->second.group = GroupOfKey(e.key, max_parallelism);
    if (it->second.group != e.group) {
      clean = false;  // misplaced: ReadKeyedSnapshot reports it
      return;
    }
    if (e.state == kProvenanceStateName && (e.value.size() != 16 || !e.user_key.empty())) {
      clean = false;
      return;
    }
    it->second.digest.Add(e.state, e.user_key, e.value);
  };
  Result<DecodedBlob> decoded = VisitKeyedBlob(blob, blob_name, visit);
  if (!clean || !decoded.ok()) return false;
  return decoded->range == key_groups || (decoded->range.empty() && key_groups.empty());
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
