#include "checkers/keyed_state.h"

#include <algorithm>
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
