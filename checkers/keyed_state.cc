#include "checkers/keyed_state.h"

#include <memory>

#include "engine/state/state_backend.h"

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
  PutLittleEndian(out, static_cast<uint64_t>(v));
  return out;
}

// Collects ForEachEntry's visits; one pointer keeps the visitor within its capture budget.
struct Reader {
  std::map<std::string, KeySnapshot> keys;
  std::string malformed;  // the first key whose provenance is not 16 bytes
};

}  // namespace

Result<std::map<std::string, KeySnapshot>> ReadKeyedSnapshot(const Bytes& blob,
                                                             std::string_view blob_name,
                                                             engine::KeyGroupRange key_groups) {
  std::unique_ptr<engine::KeyedStateBackend> backend = engine::NewHeapStateBackend(key_groups);
  FL_RETURN_IF_ERROR(backend->Restore({engine::RestoreSource{std::string(blob_name), &blob}}));
  Reader reader;
  Reader* r = &reader;
  backend->ForEachEntry([r](std::string_view state, engine::KeyGroup, std::string_view key,
                            std::string_view user_key, std::span<const uint8_t> value) {
    KeySnapshot& snapshot = r->keys[std::string(key)];
    if (state != kProvenanceStateName) {
      snapshot.entries[{std::string(state), std::string(user_key)}] =
          Bytes(value.begin(), value.end());
      return;
    }
    if (value.size() != 16) {
      if (r->malformed.empty()) r->malformed = std::string(key);
      return;
    }
    snapshot.provenance = engine::Provenance{GetLittleEndian(value, 0), GetLittleEndian(value, 8)};
  });
  if (!reader.malformed.empty()) {
    return DataLossError(std::string(blob_name) + ": provenance of key " + reader.malformed +
                         " is not 16 bytes");
  }
  return std::move(reader.keys);
}

StateEntries EntriesOf(const KeyState& state) {
  StateEntries out;
  for (const auto& [name, v] : state.values) out[{name, ""}] = I64(v);
  for (const auto& [name, v] : state.reducing) out[{name, ""}] = I64(v);
  for (const auto& [name, list] : state.lists) {
    Bytes bytes;
    for (int64_t v : list) PutLittleEndian(bytes, static_cast<uint64_t>(v));
    out[{name, ""}] = std::move(bytes);
  }
  for (const auto& [name, entries] : state.maps) {
    for (const auto& [user_key, v] : entries) out[{name, user_key}] = I64(v);
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
