#include "engine/state/keyed_state_blob.h"

#include <bit>
#include <utility>

#include "base/hash.h"

namespace faultline::engine {
namespace {

static_assert(std::endian::native == std::endian::little, "blobs are little-endian");

constexpr char kMagic[8] = {'F', 'L', 'K', 'S', 'T', 'A', 'T', 'E'};
constexpr size_t kVersionOffset = 8;
constexpr size_t kSizeOffset = 12;
constexpr size_t kFixedPrefixBytes = 20;  // magic, version, size
constexpr size_t kChecksumBytes = 8;

}  // namespace

namespace {
PlantedBlobCodecBug planted_codec_bug = PlantedBlobCodecBug::kNone;
}  // namespace

void SetPlantedBlobCodecBugForTesting(PlantedBlobCodecBug bug) {
  planted_codec_bug = bug;
}

PlantedBlobCodecBug PlantedBlobCodecBugForTesting() {
  return planted_codec_bug;
}

bool IsKnownStateKind(uint8_t kind) {
  return kind >= static_cast<uint8_t>(StateKind::kValue) &&
         kind <= static_cast<uint8_t>(StateKind::kReducing);
}

// ---- Writing -------------------------------------------------------------------------------

KeyedStateBlobWriter::KeyedStateBlobWriter(KeyGroupRange range,
                                           std::span<const KeyedStateInfo> states,
                                           size_t size_hint_bytes)
    : range_(range), reverse_values_(planted_codec_bug == PlantedBlobCodecBug::kValuesReversed) {
  FL_ASSERT(states.size() <= kKeyedStateBlobStatesMax, "more states than a blob may list");
  Reserve(size_hint_bytes + size_hint_bytes / 32 + 64);  // a little growth and the trailer
  for (char c : kMagic) U8(static_cast<uint8_t>(c));
  U32(kKeyedStateBlobVersion);
  U64(0);  // the blob size, patched by Finish
  U32(range.first);
  U32(range.last);
  U32(static_cast<uint32_t>(states.size()));
  for (size_t id = 0; id < states.size(); ++id) {
    U32(static_cast<uint32_t>(id));
    U8(static_cast<uint8_t>(states[id].kind));
    Text(states[id].name);
  }
  offsets_at_ = at_;
  for (uint32_t i = 0; i <= range.size(); ++i) U64(0);  // patched as sections begin
}

void KeyedStateBlobWriter::Text(std::string_view text) {
  FL_ASSERT(text.size() <= UINT32_MAX, "a text of 4 GiB or more");
  U32(static_cast<uint32_t>(text.size()));
  Put(text.data(), text.size());
}

void KeyedStateBlobWriter::PatchU64(size_t at, uint64_t v) {
  FL_ASSERT(at + 8 <= at_);
  std::memcpy(out_.data() + at, &v, 8);
}

void KeyedStateBlobWriter::BeginSection(KeyGroup group) {
  FL_ASSERT(sections_begun_ < range_.size() && group == range_.first + sections_begun_,
            "one section per key group of the range, in ascending order");
  if (sections_begun_ > 0) CloseSection();
  PatchU64(offsets_at_ + 8 * size_t{sections_begun_}, at_);
  ++sections_begun_;
  U32(group);
  count_at_ = at_;
  U64(0);  // the entry count, patched when the section closes
  section_entries_ = 0;
}

void KeyedStateBlobWriter::CloseSection() {
  PatchU64(count_at_, section_entries_);
}

Bytes KeyedStateBlobWriter::Finish(uint64_t& checksum) && {
  FL_ASSERT(sections_begun_ == range_.size(), "a key group of the range without its section");
  if (sections_begun_ > 0) CloseSection();
  PatchU64(offsets_at_ + 8 * size_t{range_.size()}, at_);
  PatchU64(kSizeOffset, at_ + kChecksumBytes);
  out_.resize(at_);
  Bytes blob = std::move(out_);
  // One pass gives both the body's checksum (the trailer) and the whole blob's (Checksum() of
  // the bytes uploaded, which the checkpoint's handle records).
  ChecksumStream stream;
  stream.Add(std::as_bytes(std::span<const uint8_t>(blob)));
  const uint64_t body_checksum = stream.Value();
  const size_t body = blob.size();
  for (size_t i = 0; i < kChecksumBytes; ++i) {
    blob.push_back(static_cast<uint8_t>(body_checksum >> (8 * i)));
  }
  stream.Add(std::as_bytes(std::span<const uint8_t>(blob).subspan(body)));
  checksum = stream.Value();
  // A blob is kept (in the blob store) as long as its checkpoint: not with room to spare, as
  // after the state shrank below the hint or the writer doubled its buffer.
  if (blob.capacity() > blob.size() + blob.size() / 8 + 4096) blob.shrink_to_fit();
  return blob;
}

// ---- Reading -------------------------------------------------------------------------------

// Bounds-checked little-endian reads; a read past the end fails and leaves the cursor failed.
class KeyedStateBlobReader::Cursor {
 public:
  Cursor(std::span<const uint8_t> data, size_t pos) : data_(data), pos_(pos) {}
  bool U8(uint8_t* v) {
    uint64_t wide = 0;
    if (!Fixed(1, &wide)) return false;
    *v = static_cast<uint8_t>(wide);
    return true;
  }
  bool U32(uint32_t* v) {
    uint64_t wide = 0;
    if (!Fixed(4, &wide)) return false;
    *v = static_cast<uint32_t>(wide);
    return true;
  }
  bool U64(uint64_t* v) { return Fixed(8, v); }
  bool Text(std::string_view* v) {
    uint32_t length = 0;
    if (!U32(&length) || length > data_.size() - pos_) return false;
    *v = std::string_view(reinterpret_cast<const char*>(data_.data() + pos_), length);
    pos_ += length;
    return true;
  }
  size_t pos() const { return pos_; }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  bool Fixed(size_t width_bytes, uint64_t* v) {
    if (width_bytes > data_.size() - pos_) return false;
    uint64_t value = 0;
    for (size_t i = 0; i < width_bytes; ++i) value |= uint64_t{data_[pos_ + i]} << (8 * i);
    pos_ += width_bytes;
    *v = value;
    return true;
  }
  std::span<const uint8_t> data_;
  size_t pos_;
};

namespace {

// A u64 at `at`; zero when it does not fit (the callers checked the size first).
uint64_t LoadU64(std::span<const uint8_t> data, size_t at) {
  if (at > data.size() || data.size() - at < 8) return 0;
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v |= uint64_t{data[at + i]} << (8 * i);
  return v;
}

}  // namespace

Status KeyedStateBlobReader::Corrupt(const std::string& what) const {
  return DataLossError("blob " + name_ + ": " + what);
}

Result<KeyedStateBlobReader> KeyedStateBlobReader::Open(std::span<const uint8_t> data,
                                                        std::string_view name,
                                                        bool verify_checksum) {
  KeyedStateBlobReader blob;
  blob.name_ = std::string(name);
  blob.reverse_values_ = planted_codec_bug == PlantedBlobCodecBug::kValuesReversed;
  FL_RETURN_IF_ERROR(blob.CheckFixedParts(data, verify_checksum));
  blob.body_ = data.first(data.size() - kChecksumBytes);
  Cursor in(blob.body_, kFixedPrefixBytes);
  FL_RETURN_IF_ERROR(blob.ReadRegistry(in));
  FL_RETURN_IF_ERROR(blob.ReadOffsets(in));
  return blob;
}

Status KeyedStateBlobReader::CheckFixedParts(std::span<const uint8_t> data,
                                             bool verify_checksum) const {
  if (data.size() < kFixedPrefixBytes + kChecksumBytes) {
    return Corrupt("truncated: " + std::to_string(data.size()) + " bytes, fewer than any blob");
  }
  if (std::memcmp(data.data(), kMagic, sizeof kMagic) != 0) {
    return Corrupt("not a keyed state blob (bad magic)");
  }
  const uint64_t declared_bytes = LoadU64(data, kSizeOffset);
  if (declared_bytes != data.size()) {
    return Corrupt("size mismatch (truncated?): " + std::to_string(data.size()) +
                   " bytes, the header says " + std::to_string(declared_bytes));
  }
  const auto body = data.first(data.size() - kChecksumBytes);
  if (verify_checksum && LoadU64(data, body.size()) != Checksum(std::as_bytes(body))) {
    return Corrupt("checksum mismatch");
  }
  uint32_t version = 0;
  Cursor(data, kVersionOffset).U32(&version);
  if (version != kKeyedStateBlobVersion) {
    return Corrupt("format version " + std::to_string(version) +
                   " is not supported (this build reads version " +
                   std::to_string(kKeyedStateBlobVersion) + ")");
  }
  return Status::Ok();
}

Status KeyedStateBlobReader::ReadRegistry(Cursor& in) {
  uint32_t count = 0;
  if (!in.U32(&range_.first) || !in.U32(&range_.last) || !in.U32(&count)) {
    return Corrupt("header cut short");
  }
  if (!range_.empty() && range_.last >= kMaxParallelismUpperBound) {
    return Corrupt("key group range " + range_.ToString() + " beyond the largest group");
  }
  if (count > kKeyedStateBlobStatesMax) {
    return Corrupt(std::to_string(count) + " states, above the limit");
  }
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t id = 0;
    uint8_t kind = 0;
    std::string_view name;
    if (!in.U32(&id) || !in.U8(&kind) || !in.Text(&name)) {
      return Corrupt("state registry cut short");
    }
    if (!IsKnownStateKind(kind)) {
      return Corrupt("state '" + std::string(name) + "' has unknown kind");
    }
    if (name.empty()) return Corrupt("a state without a name");
    for (const KeyedStateInfo& other : states_) {
      if (other.name == name) return Corrupt("state '" + std::string(name) + "' listed twice");
    }
    if (!index_of_state_id_.emplace(id, states_.size()).second) {
      return Corrupt("state id " + std::to_string(id) + " listed twice");
    }
    states_.push_back({std::string(name), static_cast<StateKind>(kind)});
  }
  return Status::Ok();
}

Status KeyedStateBlobReader::ReadOffsets(Cursor& in) {
  section_offsets_.resize(size_t{range_.size()} + 1);
  for (uint64_t& offset : section_offsets_) {
    if (!in.U64(&offset)) return Corrupt("offset table cut short");
  }
  uint64_t previous = in.pos();
  if (section_offsets_.front() != previous) return Corrupt("offset table misplaced");
  for (uint64_t offset : section_offsets_) {
    if (offset < previous) return Corrupt("offset table not ascending");
    previous = offset;
  }
  if (section_offsets_.back() != body_.size()) {
    return Corrupt("sections do not end at the trailer");
  }
  return Status::Ok();
}

Status KeyedStateBlobReader::ReadSection(KeyGroup group, EntryVisitor visit) const {
  FL_ASSERT(range_.Contains(group), "a section outside the blob's key groups");
  const auto corrupt = [&](const std::string& what) {
    return Corrupt("key group " + std::to_string(group) + ": " + what);
  };
  const size_t index = group - range_.first;
  Cursor in(body_.first(section_offsets_[index + 1]), section_offsets_[index]);
  uint32_t stored_group = 0;
  uint64_t count = 0;
  if (!in.U32(&stored_group) || !in.U64(&count)) return corrupt("section header cut short");
  if (stored_group != group) {
    return corrupt("section is labelled key group " + std::to_string(stored_group));
  }
  uint32_t previous_id = 0;
  std::string_view previous_key;
  std::string_view previous_user_key;
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t id = 0;
    std::string_view key;
    std::string_view user_key;
    std::string_view value;
    if (!in.U32(&id) || !in.Text(&key) || !in.Text(&user_key) || !in.Text(&value)) {
      return corrupt("entry " + std::to_string(i) + " cut short");
    }
    const auto state = index_of_state_id_.find(id);
    if (state == index_of_state_id_.end()) {
      return corrupt("entry " + std::to_string(i) + " names unknown state id " +
                     std::to_string(id));
    }
    // Ascending by (state id, key, user key), keys as unsigned bytes (string_view's order).
    const int by_key = previous_key.compare(key);
    const bool ascending =
        id > previous_id ||
        (id == previous_id && (by_key < 0 || (by_key == 0 && previous_user_key < user_key)));
    if (i > 0 && !ascending) {
      return corrupt("entries out of order or repeated at entry " + std::to_string(i));
    }
    previous_id = id;
    previous_key = key;
    previous_user_key = user_key;
    if (reverse_values_) {  // the planted codec bug (test seam)
      const std::string reversed(value.rbegin(), value.rend());
      visit(state->second, key, user_key,
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(reversed.data()),
                                     reversed.size()));
      continue;
    }
    visit(state->second, key, user_key,
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
  }
  if (!in.at_end()) return corrupt("bytes after the last entry");
  return Status::Ok();
}

namespace {

constexpr size_t kStateNameBytesMax = 1024;

std::string_view KindName(StateKind kind) {
  switch (kind) {
    case StateKind::kValue:
      return "value";
    case StateKind::kList:
      return "list";
    case StateKind::kMap:
      return "map";
    case StateKind::kReducing:
      return "reducing";
  }
  return "unknown";
}

}  // namespace

Result<StateId> FindOrAddState(std::vector<KeyedStateInfo>& states, std::string_view name,
                               StateKind kind) {
  for (size_t id = 0; id < states.size(); ++id) {
    if (states[id].name != name) continue;
    if (states[id].kind != kind) {
      return InvalidArgumentError("state '" + std::string(name) + "' is registered as " +
                                  std::string(KindName(states[id].kind)) + ", not " +
                                  std::string(KindName(kind)));
    }
    return static_cast<StateId>(id);
  }
  if (name.empty() || name.size() > kStateNameBytesMax) {
    return InvalidArgumentError("a state name must have 1 to " +
                                std::to_string(kStateNameBytesMax) + " bytes");
  }
  if (states.size() >= kKeyedStateBlobStatesMax) {
    return ResourceExhaustedError("more than " + std::to_string(kKeyedStateBlobStatesMax) +
                                  " states registered; cannot add '" + std::string(name) + "'");
  }
  states.push_back({std::string(name), kind});
  return static_cast<StateId>(states.size() - 1);
}

Status ReadRestoreSources(const std::vector<RestoreSource>& sources, KeyGroupRange range,
                          std::vector<KeyedStateInfo>& states, RestoredEntryVisitor visit) {
  // Which blob gave each group of the range, so two blobs cannot both fill one.
  std::vector<const std::string*> source_of_group(range.size(), nullptr);
  for (const RestoreSource& source : sources) {
    FL_ASSERT(source.data != nullptr, "a RestoreSource without data");
    if (IsIncrementalKeyedHandle(*source.data)) {
      return FailedPreconditionError(
          "blob " + source.name +
          " is an incremental RocksDB snapshot: only the RocksDB backend restores it (take a "
          "full checkpoint or a savepoint to change backends)");
    }
    FL_ASSIGN_OR_RETURN(
        const KeyedStateBlobReader blob,
        KeyedStateBlobReader::Open(*source.data, source.name, source.verify_checksum));
    // Map the blob's states to ours by name: ids may differ between backends and runs.
    std::vector<StateId> local_ids;
    for (const KeyedStateInfo& state : blob.states()) {
      Result<StateId> id = FindOrAddState(states, state.name, state.kind);
      if (!id.ok()) return id.status().WithContext("blob " + source.name);
      local_ids.push_back(*id);
    }
    const KeyGroupRange overlap = blob.range().Intersect(range);
    for (KeyGroup group = overlap.first; group <= overlap.last; ++group) {
      const std::string*& owner = source_of_group[group - range.first];
      if (owner != nullptr) {
        return InvalidArgumentError("key group " + std::to_string(group) + " is in both blob " +
                                    *owner + " and blob " + source.name);
      }
      owner = &source.name;
      FL_RETURN_IF_ERROR(blob.ReadSection(
          group,
          [&visit, &local_ids, group](size_t state, std::string_view key, std::string_view user_key,
                                      std::span<const uint8_t> value) {
            visit(local_ids[state], group, key, user_key, value);
          }));
    }
  }
  return Status::Ok();
}

}  // namespace faultline::engine
