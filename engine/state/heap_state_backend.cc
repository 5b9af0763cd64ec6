// The heap keyed state backend and the keyed-state blob format every backend writes.
//
// Blob layout (version 1). Integers are fixed-width little-endian; "text" is a u32 length and
// that many bytes.
//
//   header    magic "FLKSTATE" | u32 format version | u64 blob size in bytes (trailer included)
//             | u32 first key group | u32 last key group | u32 state count
//             | per state: u32 state id, u8 kind, text name
//   offsets   one u64 per key group of the range: where its section starts (from the blob
//             start), then one u64 where the last section ends (= where the trailer starts)
//   sections  per key group, ascending: u32 key group | u64 entry count
//             | per entry, ascending by (state id, key, user key): u32 state id, text key,
//               text user key, text value
//   trailer   u64 XXH3-64 of every byte before it
//
// The first 20 bytes (magic, version, size) and the trailer keep their place in every version,
// so a reader can tell truncation and corruption from a version it does not know. The offset
// table lets a rescaled restore read only the sections of its own key groups.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/hash.h"
#include "engine/state/state_backend.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace faultline::engine {
namespace {

// ---- In-memory layout ----------------------------------------------------------------------

// Where one entry lives. Ordered by group, then key, then user key, comparing bytes as unsigned
// (std::string_view's order), the order a RocksDB backend's bytewise comparator gives.
struct EntryKey {
  KeyGroup group;
  std::string key;
  std::string user_key;
};
// The same, borrowing its bytes, for lookups that must not allocate.
struct EntryKeyView {
  KeyGroup group;
  std::string_view key;
  std::string_view user_key;
};
struct EntryKeyLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    if (a.group != b.group) return a.group < b.group;
    const int by_key = std::string_view(a.key).compare(std::string_view(b.key));
    if (by_key != 0) return by_key < 0;
    return std::string_view(a.user_key) < std::string_view(b.user_key);
  }
};
// A state value: up to 16 bytes inside the entry itself, so reading a small value touches no
// other memory and writing one allocates nothing; longer values on the heap.
class Value {
 public:
  static constexpr size_t kInlineBytes = 16;

  Value() = default;
  explicit Value(std::span<const uint8_t> bytes) { Assign(bytes); }
  explicit Value(Bytes&& bytes) { Assign(std::move(bytes)); }
  Value(const Value&) = default;
  Value& operator=(const Value&) = default;
  // A moved-from value is empty (not a long size over an emptied heap buffer).
  Value(Value&& other) noexcept
      : size_(std::exchange(other.size_, 0)), heap_(std::move(other.heap_)) {
    std::memcpy(inline_, other.inline_, kInlineBytes);
  }
  Value& operator=(Value&& other) noexcept {
    size_ = std::exchange(other.size_, 0);
    heap_ = std::move(other.heap_);
    std::memcpy(inline_, other.inline_, kInlineBytes);
    return *this;
  }

  std::span<const uint8_t> bytes() const {
    return size_ <= kInlineBytes ? std::span<const uint8_t>(inline_, size_)
                                 : std::span<const uint8_t>(heap_);
  }
  void Assign(std::span<const uint8_t> bytes) {
    if (bytes.size() <= kInlineBytes) {
      CopyBytes(inline_, bytes.data(), bytes.size());
      if (!heap_.empty()) Bytes().swap(heap_);
    } else {
      heap_.assign(bytes.begin(), bytes.end());
    }
    size_ = bytes.size();
  }
  void Assign(Bytes&& bytes) {
    if (bytes.size() <= kInlineBytes) return Assign(std::span<const uint8_t>(bytes));
    size_ = bytes.size();
    heap_ = std::move(bytes);
  }

 private:
  size_t size_ = 0;
  uint8_t inline_[kInlineBytes] = {};
  Bytes heap_;  // the value when longer than kInlineBytes, else empty
};

using EntryMap = std::map<EntryKey, Value, EntryKeyLess>;

// A hash index over the entries of every state, for point access in O(1): open addressing
// with linear probing over slots that hold an entry's hash, state and address (map nodes never
// move), so a lookup touches one slot and the entry it finds. It is never iterated, so its
// order reaches neither snapshots nor digests.
class EntryIndex {
 public:
  using Entry = EntryMap::value_type;

  // The state is not hashed: the entries of one key in different states share a probe run,
  // so a function reading several states of its key finds them in the slots the first lookup
  // already brought into cache, and the key is hashed once (SetCurrentKey).
  // The index lives in memory only, so its hash need not be stable across builds: a short
  // string (keys usually are) is mixed inline with one 64x64->128-bit multiply, as wyhash does,
  // instead of a call into XXH3 per record.
  static uint64_t HashOf(KeyGroup group, std::string_view key, std::string_view user_key) {
    uint64_t h = HashBytes(key, group);
    if (!user_key.empty()) h = HashBytes(user_key, h);
    return h;
  }

  // Calls visit(state, entry) for every entry of the probe run that starts at `hash`'s home
  // slot whose hash is `hash` (every entry that can have that hash, and a few more), until
  // visit returns false.
  template <typename Visit>
  void ForEachWithHash(uint64_t hash, Visit&& visit) const {
    if (slots_.empty()) return;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.entry == nullptr) return;
      if (slot.hash == hash && !visit(slot.state, slot.entry)) return;
    }
  }

  // `hash` must be HashOf(group, key, user_key).
  Entry* Find(StateId state, KeyGroup group, std::string_view key, std::string_view user_key,
              uint64_t hash) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.entry == nullptr) return nullptr;
      if (slot.hash == hash && slot.state == state && slot.entry->first.group == group &&
          EqualBytes(slot.entry->first.key, key) &&
          EqualBytes(slot.entry->first.user_key, user_key)) {
        return slot.entry;
      }
    }
  }
  Entry* Find(StateId state, KeyGroup group, std::string_view key,
              std::string_view user_key) const {
    return Find(state, group, key, user_key, HashOf(group, key, user_key));
  }

  // `entry` must not be in the index yet.
  void Add(StateId state, Entry* entry) {
    if (2 * (used_ + 1) > slots_.size()) Grow();  // at most half full: short probe runs
    Place(Slot{HashOf(entry->first.group, entry->first.key, entry->first.user_key), entry, state});
    ++used_;
  }

  // Removes `entry`; true if it was there.
  bool Remove(const Entry* entry) {
    if (slots_.empty()) return false;
    const uint64_t hash = HashOf(entry->first.group, entry->first.key, entry->first.user_key);
    size_t i = hash & mask_;
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].entry == nullptr) return false;
      if (slots_[i].entry == entry) break;
    }
    // Backward-shift deletion: pull later slots of the run into the hole, so no tombstones.
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (slots_[j].entry == nullptr) break;
      const size_t home = slots_[j].hash & mask_;
      // Move slot j into the hole at i unless its home lies cyclically in (i, j].
      const bool home_in_between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!home_in_between) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
    --used_;
    return true;
  }

  void Clear() {
    slots_.clear();
    mask_ = 0;
    used_ = 0;
  }
  size_t size() const { return used_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    Entry* entry = nullptr;  // nullptr: empty
    StateId state = 0;
  };

  void Place(const Slot& slot) {
    size_t i = slot.hash & mask_;
    while (slots_[i].entry != nullptr) i = (i + 1) & mask_;
    slots_[i] = slot;
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : 2 * old.size(), Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.entry != nullptr) Place(slot);
    }
  }

  static uint64_t Mix(uint64_t a, uint64_t b) {
    __extension__ using U128 = unsigned __int128;  // GCC and Clang on 64-bit targets
    const U128 product = static_cast<U128>(a) * b;
    return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
  }
  static uint64_t HashBytes(std::string_view bytes, uint64_t seed) {
    constexpr uint64_t kA = 0xa0761d6478bd642full;
    constexpr uint64_t kB = 0xe7037ed1a0b428dbull;
    const size_t n = bytes.size();
    const char* p = bytes.data();
    uint64_t a = 0;
    uint64_t b = 0;
    if (n > 16) return Hash64(bytes, seed);
    if (n >= 8) {
      a = LoadWord<uint64_t>(p);
      b = LoadWord<uint64_t>(p + n - 8);
    } else if (n >= 4) {
      a = LoadWord<uint32_t>(p);
      b = LoadWord<uint32_t>(p + n - 4);
    } else if (n > 0) {
      a = uint64_t{static_cast<uint8_t>(p[0])} << 16 |
          uint64_t{static_cast<uint8_t>(p[n >> 1])} << 8 | static_cast<uint8_t>(p[n - 1]);
    }
    return Mix(a ^ kA ^ seed, b ^ kB ^ n) ^ seed;
  }

  std::vector<Slot> slots_;  // a power of two in size, or empty
  size_t mask_ = 0;
  size_t used_ = 0;
};

struct StateInfo {
  std::string name;
  StateKind kind;
};

// Registered states and their entries; index = StateId. Both the backend and its snapshots
// hold one (a snapshot a copy).
struct StateTable {
  std::vector<StateInfo> states;
  std::vector<EntryMap> entries;
};

// "Put a limit on everything": a job with more states than this is a bug, not a workload.
constexpr size_t kStatesMax = 1024;
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

bool IsKnownKind(uint8_t kind) {
  return kind >= static_cast<uint8_t>(StateKind::kValue) &&
         kind <= static_cast<uint8_t>(StateKind::kReducing);
}

// Finds `name` in `table` or appends it: the rule shared by Register and Restore.
Result<StateId> FindOrAddState(StateTable& table, std::string_view name, StateKind kind) {
  for (size_t id = 0; id < table.states.size(); ++id) {
    const StateInfo& state = table.states[id];
    if (state.name != name) continue;
    if (state.kind != kind) {
      return InvalidArgumentError("state '" + std::string(name) + "' is registered as " +
                                  std::string(KindName(state.kind)) + ", not " +
                                  std::string(KindName(kind)));
    }
    return static_cast<StateId>(id);
  }
  if (name.empty() || name.size() > kStateNameBytesMax) {
    return InvalidArgumentError("a state name must have 1 to " +
                                std::to_string(kStateNameBytesMax) + " bytes");
  }
  if (table.states.size() >= kStatesMax) {
    return ResourceExhaustedError("more than " + std::to_string(kStatesMax) +
                                  " states registered; cannot add '" + std::string(name) + "'");
  }
  table.states.push_back({std::string(name), kind});
  table.entries.emplace_back();
  return static_cast<StateId>(table.states.size() - 1);
}

// ---- Digest --------------------------------------------------------------------------------

// The per-entry hash that Digest() sums (see state_backend.h for the formula).
uint64_t EntryDigest(std::string_view state_name, const EntryKey& key, const Value& value) {
  // Fast path, the same bytes as the Hasher below lays out when they fit its 256-byte buffer
  // (it then hashes them once, seed 0): one copy per field and one XXH3, no calls per field.
  const std::span<const uint8_t> bytes = value.bytes();
  const size_t total =
      5 * 8 + state_name.size() + key.key.size() + key.user_key.size() + bytes.size();
  if (total <= 256) {
    uint8_t buffer[256];
    size_t at = 0;
    const auto u64 = [&](uint64_t v) {
      std::memcpy(buffer + at, &v, 8);  // little-endian (asserted in BlobWriter)
      at += 8;
    };
    const auto text = [&](const void* data, size_t n) {
      u64(n);
      CopyBytes(buffer + at, data, n);  // short: inline moves, not a call
      at += n;
    };
    text(state_name.data(), state_name.size());
    u64(key.group);
    text(key.key.data(), key.key.size());
    text(key.user_key.data(), key.user_key.size());
    text(bytes.data(), bytes.size());
    // XXH3 inline (the same value as Hash64's call; the capture hashes every entry).
    return XXH3_64bits_withSeed(buffer, at, 0);
  }
  return Hasher()
      .Text(state_name)
      .U64(key.group)
      .Text(key.key)
      .Text(key.user_key)
      .Bytes(std::as_bytes(value.bytes()))
      .Finish();
}

// ---- Blob encoding ---------------------------------------------------------------------------

constexpr char kMagic[8] = {'F', 'L', 'K', 'S', 'T', 'A', 'T', 'E'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kVersionOffset = 8;
constexpr size_t kSizeOffset = 12;
constexpr size_t kFixedPrefixBytes = 20;  // magic, version, size
constexpr size_t kChecksumBytes = 8;

class BlobWriter {
 public:
  void U8(uint8_t v) { Put(&v, 1); }
  void U32(uint32_t v) { Put(&v, 4); }
  void U64(uint64_t v) { Put(&v, 8); }
  void Text(std::span<const uint8_t> bytes) {
    FL_ASSERT(bytes.size() <= UINT32_MAX, "a key or value of 4 GiB or more");
    U32(static_cast<uint32_t>(bytes.size()));
    Put(bytes.data(), bytes.size());
  }
  void Text(std::string_view text) {
    Text(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  size_t size() const { return at_; }
  // Room for n more bytes (grown geometrically; zero-filled as a vector's growth is).
  void Reserve(size_t n) {
    if (n > out_.size() - at_) out_.resize(std::max(2 * out_.size(), at_ + n + 256));
  }
  // One entry of a section: state id, key, user key, value, with one bounds check.
  void Entry(uint32_t id, std::string_view key, std::string_view user_key,
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
    std::memcpy(at, &id, 4);
    at += 4;
    field(key.data(), key.size());
    field(user_key.data(), user_key.size());
    field(value.data(), value.size());
    at_ += n;
  }
  void PatchU64(size_t at, uint64_t v) {
    FL_ASSERT(at + 8 <= at_);
    std::memcpy(out_.data() + at, &v, 8);
  }
  Bytes Take() && {
    out_.resize(at_);
    return std::move(out_);
  }

 private:
  static_assert(std::endian::native == std::endian::little, "blobs are little-endian");
  // Appends n bytes (integers: their little-endian bytes). The buffer grows geometrically and
  // is cut to size by Take, so a write is a bounds check and a copy.
  void Put(const void* bytes, size_t n) {
    Reserve(n);
    if (n != 0) std::memcpy(out_.data() + at_, bytes, n);
    at_ += n;
  }
  Bytes out_;
  size_t at_ = 0;
};

void WriteHeader(const KeyGroupRange& range, const StateTable& table, BlobWriter& out) {
  for (char c : kMagic) out.U8(static_cast<uint8_t>(c));
  out.U32(kFormatVersion);
  out.U64(0);  // the blob size, patched at the end
  out.U32(range.first);
  out.U32(range.last);
  out.U32(static_cast<uint32_t>(table.states.size()));
  for (size_t id = 0; id < table.states.size(); ++id) {
    out.U32(static_cast<uint32_t>(id));
    out.U8(static_cast<uint8_t>(table.states[id].kind));
    out.Text(table.states[id].name);
  }
}

// Writes one key group's section. `next[s]` is the first entry of state s not yet written;
// the maps are ordered by group first, so walking groups in ascending order only advances it.
void WriteSection(KeyGroup group, const StateTable& table,
                  std::vector<EntryMap::const_iterator>& next, BlobWriter& out, uint64_t& digest) {
  out.U32(group);
  const size_t count_at = out.size();
  out.U64(0);  // the entry count, patched below
  uint64_t count = 0;
  for (size_t id = 0; id < table.entries.size(); ++id) {
    auto& it = next[id];
    for (; it != table.entries[id].end() && it->first.group == group; ++it) {
      out.Entry(static_cast<uint32_t>(id), it->first.key, it->first.user_key, it->second.bytes());
      digest += EntryDigest(table.states[id].name, it->first, it->second);
      ++count;
    }
  }
  out.PatchU64(count_at, count);
}

// Also sums the digest of every entry written into `digest` (one walk over the maps).
// `size_hint`: the expected size (the previous blob's), allocated once up front. Sets
// `blob_checksum` to Checksum() of the returned bytes.
Bytes EncodeBlob(const KeyGroupRange& range, const StateTable& table, uint64_t& digest,
                 uint64_t& blob_checksum, size_t size_hint) {
  BlobWriter out;
  out.Reserve(size_hint + size_hint / 32 + 64);  // room for a little growth and the trailer
  WriteHeader(range, table, out);
  const size_t offsets_at = out.size();
  for (uint32_t i = 0; i <= range.size(); ++i) out.U64(0);  // patched as sections are written
  std::vector<EntryMap::const_iterator> next;
  for (const EntryMap& entries : table.entries) next.push_back(entries.begin());
  for (uint32_t i = 0; i < range.size(); ++i) {
    out.PatchU64(offsets_at + 8 * size_t{i}, out.size());
    WriteSection(range.first + i, table, next, out, digest);
  }
  out.PatchU64(offsets_at + 8 * size_t{range.size()}, out.size());
  for (size_t id = 0; id < next.size(); ++id) {
    FL_ASSERT(next[id] == table.entries[id].end(), "an entry outside the backend's key groups");
  }
  out.PatchU64(kSizeOffset, out.size() + kChecksumBytes);
  Bytes blob = std::move(out).Take();
  // One pass gives both the body's checksum (the trailer) and the whole blob's (Checksum() of
  // the bytes uploaded, which the checkpoint's handle records).
  ChecksumStream stream;
  stream.Add(std::as_bytes(std::span<const uint8_t>(blob)));
  const uint64_t checksum = stream.Value();
  const size_t body = blob.size();
  for (size_t i = 0; i < kChecksumBytes; ++i) {
    blob.push_back(static_cast<uint8_t>(checksum >> (8 * i)));
  }
  stream.Add(std::as_bytes(std::span<const uint8_t>(blob).subspan(body)));
  blob_checksum = stream.Value();
  // A blob is kept (in the blob store) as long as its checkpoint: not with room to spare, as
  // after the state shrank below the hint or the writer doubled its buffer.
  if (blob.capacity() > blob.size() + blob.size() / 8 + 4096) blob.shrink_to_fit();
  return blob;
}

// ---- Blob decoding ---------------------------------------------------------------------------

// Bounds-checked little-endian reads; a read past the end fails and leaves the reader failed.
class BlobReader {
 public:
  BlobReader(std::span<const uint8_t> data, size_t pos) : data_(data), pos_(pos) {}
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

uint64_t LoadU64(std::span<const uint8_t> data, size_t at) {
  uint64_t v = 0;
  BlobReader(data, at).U64(&v);
  return v;
}

// A blob whose fixed parts (prefix, checksum, header, offset table) were verified.
struct OpenedBlob {
  std::span<const uint8_t> body;  // every byte before the trailer
  KeyGroupRange range;
  std::vector<StateInfo> states;
  std::map<uint32_t, size_t> index_of_state_id;  // blob state id -> index in `states`
  std::vector<uint64_t> section_offsets;         // range.size() + 1 entries
};

class BlobOpener {
 public:
  explicit BlobOpener(const RestoreSource& source) : source_(source) {}
  Result<OpenedBlob> Open();

 private:
  Status Corrupt(const std::string& what) const {
    return DataLossError("blob " + source_.name + ": " + what);
  }
  Status CheckFixedParts(std::span<const uint8_t> data) const;
  Status ReadRegistry(BlobReader& in, OpenedBlob& blob) const;
  Status ReadOffsets(BlobReader& in, OpenedBlob& blob) const;

  const RestoreSource& source_;
};

Status BlobOpener::CheckFixedParts(std::span<const uint8_t> data) const {
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
  if (source_.verify_checksum && LoadU64(data, body.size()) != Checksum(std::as_bytes(body))) {
    return Corrupt("checksum mismatch");
  }
  uint32_t version = 0;
  BlobReader(data, kVersionOffset).U32(&version);
  if (version != kFormatVersion) {
    return Corrupt("format version " + std::to_string(version) +
                   " is not supported (this build reads version " + std::to_string(kFormatVersion) +
                   ")");
  }
  return Status::Ok();
}

Status BlobOpener::ReadRegistry(BlobReader& in, OpenedBlob& blob) const {
  uint32_t count = 0;
  if (!in.U32(&blob.range.first) || !in.U32(&blob.range.last) || !in.U32(&count)) {
    return Corrupt("header cut short");
  }
  if (!blob.range.empty() && blob.range.last >= kMaxParallelismUpperBound) {
    return Corrupt("key group range " + blob.range.ToString() + " beyond the largest group");
  }
  if (count > kStatesMax) return Corrupt(std::to_string(count) + " states, above the limit");
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t id = 0;
    uint8_t kind = 0;
    std::string_view name;
    if (!in.U32(&id) || !in.U8(&kind) || !in.Text(&name)) {
      return Corrupt("state registry cut short");
    }
    if (!IsKnownKind(kind)) return Corrupt("state '" + std::string(name) + "' has unknown kind");
    if (name.empty()) return Corrupt("a state without a name");
    for (const StateInfo& other : blob.states) {
      if (other.name == name) return Corrupt("state '" + std::string(name) + "' listed twice");
    }
    if (!blob.index_of_state_id.emplace(id, blob.states.size()).second) {
      return Corrupt("state id " + std::to_string(id) + " listed twice");
    }
    blob.states.push_back({std::string(name), static_cast<StateKind>(kind)});
  }
  return Status::Ok();
}

Status BlobOpener::ReadOffsets(BlobReader& in, OpenedBlob& blob) const {
  const size_t count = size_t{blob.range.size()} + 1;
  blob.section_offsets.resize(count);
  for (uint64_t& offset : blob.section_offsets) {
    if (!in.U64(&offset)) return Corrupt("offset table cut short");
  }
  uint64_t previous = in.pos();
  if (blob.section_offsets.front() != previous) return Corrupt("offset table misplaced");
  for (uint64_t offset : blob.section_offsets) {
    if (offset < previous) return Corrupt("offset table not ascending");
    previous = offset;
  }
  if (blob.section_offsets.back() != blob.body.size()) {
    return Corrupt("sections do not end at the trailer");
  }
  return Status::Ok();
}

Result<OpenedBlob> BlobOpener::Open() {
  FL_ASSERT(source_.data != nullptr, "a RestoreSource without data");
  const std::span<const uint8_t> data(*source_.data);
  FL_RETURN_IF_ERROR(CheckFixedParts(data));
  OpenedBlob blob;
  blob.body = data.first(data.size() - kChecksumBytes);
  BlobReader in(blob.body, kFixedPrefixBytes);
  FL_RETURN_IF_ERROR(ReadRegistry(in, blob));
  FL_RETURN_IF_ERROR(ReadOffsets(in, blob));
  return blob;
}

// Reads the section of `group` (inside the blob's range) into `table`, whose state for the
// blob's state i is `local_ids[i]`. Checks the section's structure entry by entry.
Status LoadSection(const OpenedBlob& blob, std::string_view blob_name, KeyGroup group,
                   const std::vector<StateId>& local_ids, StateTable& table) {
  const auto corrupt = [&](const std::string& what) {
    return DataLossError("blob " + std::string(blob_name) + ": key group " + std::to_string(group) +
                         ": " + what);
  };
  const size_t index = group - blob.range.first;
  const uint64_t begin = blob.section_offsets[index];
  BlobReader in(blob.body.first(blob.section_offsets[index + 1]), begin);
  uint32_t stored_group = 0;
  uint64_t count = 0;
  if (!in.U32(&stored_group) || !in.U64(&count)) return corrupt("section header cut short");
  if (stored_group != group) {
    return corrupt("section is labelled key group " + std::to_string(stored_group));
  }
  uint32_t previous_id = 0;
  EntryKeyView previous{group, {}, {}};
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t id = 0;
    std::string_view key;
    std::string_view user_key;
    std::string_view value;
    if (!in.U32(&id) || !in.Text(&key) || !in.Text(&user_key) || !in.Text(&value)) {
      return corrupt("entry " + std::to_string(i) + " cut short");
    }
    const auto state = blob.index_of_state_id.find(id);
    if (state == blob.index_of_state_id.end()) {
      return corrupt("entry " + std::to_string(i) + " names unknown state id " +
                     std::to_string(id));
    }
    const EntryKeyView current{group, key, user_key};
    if (i > 0 && (id < previous_id || (id == previous_id && !EntryKeyLess()(previous, current)))) {
      return corrupt("entries out of order or repeated at entry " + std::to_string(i));
    }
    previous_id = id;
    previous = current;
    const auto* first = reinterpret_cast<const uint8_t*>(value.data());
    const bool added = table.entries[local_ids[state->second]]
                           .emplace(EntryKey{group, std::string(key), std::string(user_key)},
                                    Value(std::span<const uint8_t>(first, value.size())))
                           .second;
    FL_ASSERT(added, "a restored entry that is already present");
  }
  if (!in.at_end()) return corrupt("bytes after the last entry");
  return Status::Ok();
}

// ---- Snapshot and backend ------------------------------------------------------------------

// The blob itself, encoded at Capture: the immutable view is the serialized state, so nothing
// is copied twice and no copy of the maps is built (Flink's heap backend gets the same effect
// from copy-on-write maps). The same walk over the live maps sums the digest; the restored
// side's digest (Digest() after Restore) comes from the decoded maps, independently.
class HeapStateSnapshot final : public StateSnapshot {
 public:
  HeapStateSnapshot(KeyGroupRange range, const StateTable& table, size_t size_hint)
      : blob_(EncodeBlob(range, table, digest_, blob_checksum_, size_hint)) {
    for (const EntryMap& entries : table.entries) entries_ += entries.size();
  }

  Result<Bytes> Materialize() const override {
    FL_ASSERT(!handed_over_, "Materialize after MaterializeOnce");
    return blob_;
  }
  Result<Bytes> MaterializeOnce() override {
    FL_ASSERT(!handed_over_, "MaterializeOnce twice");
    handed_over_ = true;
    return std::move(blob_);
  }
  std::optional<uint64_t> MaterializedChecksum() const override { return blob_checksum_; }
  uint64_t entries() const override { return entries_; }
  uint64_t digest() const override { return digest_; }
  size_t blob_bytes() const { return blob_.size(); }

 private:
  uint64_t digest_ = 0;  // before blob_: EncodeBlob sums into it
  uint64_t blob_checksum_ = 0;  // and sets this
  bool handed_over_ = false;    // blob_ moved out by MaterializeOnce
  Bytes blob_;
  uint64_t entries_ = 0;
};

class HeapStateBackend final : public KeyedStateBackend {
 public:
  explicit HeapStateBackend(KeyGroupRange key_groups) : range_(key_groups) {}

  KeyGroupRange key_groups() const override { return range_; }

  Result<StateId> Register(std::string_view name, StateKind kind) override {
    Result<StateId> id = FindOrAddState(table_, name, kind);
    current_entries_.resize(table_.entries.size());
    return id;
  }

  bool GetCurrent(StateId state, Bytes& value) const override {
    return CopyOut(CurrentEntryOf(state), value);
  }
  void PutCurrent(StateId state, std::span<const uint8_t> value) override {
    if (EntryMap::value_type* entry = CurrentEntryOf(state)) {
      entry->second.Assign(value);  // in place: no allocation
      return;
    }
    return InsertCopy(state, current_group_, current_key_, "", value);  // a tail call
  }

  std::optional<Bytes> Get(StateId state, KeyGroup group, std::string_view key,
                           std::string_view user_key) const override {
    const EntryMap::value_type* entry = Find(state, group, key, user_key);
    if (entry == nullptr) return std::nullopt;
    const std::span<const uint8_t> bytes = entry->second.bytes();
    return Bytes(bytes.begin(), bytes.end());
  }

  bool GetInto(StateId state, KeyGroup group, std::string_view key, std::string_view user_key,
               Bytes& value) const override {
    return CopyOut(Find(state, group, key, user_key), value);
  }

  void Put(StateId state, KeyGroup group, std::string_view key, std::string_view user_key,
           Bytes value) override {
    if (EntryMap::value_type* entry = Find(state, group, key, user_key)) {
      entry->second.Assign(std::move(value));  // an overwrite allocates no key
      return;
    }
    Insert(state, group, key, user_key, Value(std::move(value)));
  }

  void PutCopy(StateId state, KeyGroup group, std::string_view key, std::string_view user_key,
               std::span<const uint8_t> value) override {
    if (EntryMap::value_type* entry = Find(state, group, key, user_key)) {
      entry->second.Assign(value);  // in place: no allocation
      return;
    }
    return InsertCopy(state, group, key, user_key, value);  // a tail call: no frame here
  }

  void Delete(StateId state, KeyGroup group, std::string_view key,
              std::string_view user_key) override {
    EntryMap& entries = EntriesOf(state, group);
    const EntryMap::value_type* found = index_.Find(state, group, key, user_key);
    if (found == nullptr) return;
    const auto it = entries.find(EntryKeyView{group, key, user_key});
    FL_ASSERT(it != entries.end() && &*it == found, "the index lost track of an entry");
    if (current_entries_[state].entry == &*it) current_entries_[state] = {};
    const bool removed = index_.Remove(found);
    FL_ASSERT(removed, "the index lost track of an entry");
    entries.erase(it);
  }

  // The visitor must not change this backend: it runs while the map is being walked.
  void ForEach(StateId state, KeyGroup group, std::string_view key,
               EntryVisitor visit) const override {
    const EntryMap& entries = EntriesOf(state, group);
    for (auto it = entries.lower_bound(EntryKeyView{group, key, {}});
         it != entries.end() && it->first.group == group && it->first.key == key; ++it) {
      visit(it->first.user_key, it->second.bytes());
    }
  }

  void ForEachEntry(AllEntriesVisitor visit) const override {
    for (size_t id = 0; id < table_.states.size(); ++id) {
      for (const auto& [entry, value] : table_.entries[id]) {
        visit(table_.states[id].name, entry.group, entry.key, entry.user_key, value.bytes());
      }
    }
  }

  std::unique_ptr<StateSnapshot> Capture() const override {
    auto snapshot = std::make_unique<HeapStateSnapshot>(range_, table_, last_blob_bytes_);
    last_blob_bytes_ = snapshot->blob_bytes();
    return snapshot;
  }

  Status Restore(const std::vector<RestoreSource>& sources) override;

  uint64_t Digest() const override {
    uint64_t digest = 0;
    for (size_t id = 0; id < table_.entries.size(); ++id) {
      for (const auto& [key, value] : table_.entries[id]) {
        digest += EntryDigest(table_.states[id].name, key, value);
      }
    }
    return digest;
  }

  uint64_t entry_count() const override {
    uint64_t count = 0;
    for (const EntryMap& entries : table_.entries) count += entries.size();
    return count;
  }

 private:
  // GetInto's and GetCurrent's copy of a found entry's value; false when none was found.
  static bool CopyOut(const EntryMap::value_type* entry, Bytes& value) {
    if (entry == nullptr) return false;
    const std::span<const uint8_t> bytes = entry->second.bytes();
    value.resize(bytes.size());  // no allocation once `value` has held as much
    CopyBytes(value.data(), bytes.data(), bytes.size());
    return true;
  }

  // SetCurrentKey / ClearCurrentKey hooks (the base class remembers the key).
  void OnSetCurrentKey(KeyGroup group, std::string_view key) override {
    FL_ASSERT(range_.Contains(group), "a key group this backend does not own");
    current_group_ = group;
    current_key_ = key;
    current_hash_ = EntryIndex::HashOf(group, key, "");
    ++epoch_;
    // One walk of the key's probe run finds what every state holds for it (the states share
    // the run), so each access of the record's function is served from the cache.
    for (CurrentEntry& cached : current_entries_) cached = {epoch_, nullptr};
    size_t missing = current_entries_.size();  // the walk ends once every state has its entry
    index_.ForEachWithHash(current_hash_, [&](StateId state, EntryMap::value_type* entry) {
      if (entry->first.group == group && entry->first.user_key.empty() &&
          EqualBytes(entry->first.key, key)) {
        FL_ASSERT(state < current_entries_.size(), "an indexed state without a cache slot");
        current_entries_[state].entry = entry;
        return --missing != 0;
      }
      return true;
    });
  }
  void OnClearCurrentKey() override {
    current_key_ = {};
    current_group_ = kNoGroup;  // matches no access: every group is in range_, this is not
    ++epoch_;
  }

  // Routing put the key in one of our groups, and the operator registered its state first.
  void CheckAccess(StateId state, KeyGroup group) const {
    FL_ASSERT(state < table_.entries.size(), "a state id that was never registered");
    FL_ASSERT(range_.Contains(group), "a key group this backend does not own");
  }
  const EntryMap& EntriesOf(StateId state, KeyGroup group) const {
    CheckAccess(state, group);
    return table_.entries[state];
  }
  EntryMap& EntriesOf(StateId state, KeyGroup group) {
    CheckAccess(state, group);
    return table_.entries[state];
  }

  // Accesses for the current key (SetCurrentKey) without a user key are served from a cache of
  // what each state holds for that key, tagged with the key's epoch: a function reads its
  // states and writes them back, and only the first access of each state probes the index.
  // Map nodes never move, so a cached entry stays valid until it is deleted (Delete forgets
  // it) or the maps are replaced (Restore starts a new epoch).
  bool IsCurrentKey(KeyGroup group, std::string_view key) const {
    return group == current_group_ && key.data() == current_key_.data() &&
           key.size() == current_key_.size();
  }
  EntryMap::value_type* Find(StateId state, KeyGroup group, std::string_view key,
                             std::string_view user_key) const {
    CheckAccess(state, group);
    if (user_key.empty() && IsCurrentKey(group, key)) {
      const CurrentEntry& cached = current_entries_[state];
      if (cached.epoch == epoch_) return cached.entry;  // nullptr: no value in this state
    }
    return FindInIndex(state, group, key, user_key);
  }
  // What `state` holds for the current key: from the cache SetCurrentKey filled, unless an
  // entry was deleted or the state registered since.
  EntryMap::value_type* CurrentEntryOf(StateId state) const {
    FL_ASSERT(current_group_ != kNoGroup, "a current-key access without a current key");
    FL_ASSERT(state < current_entries_.size(), "a state id that was never registered");
    const CurrentEntry& cached = current_entries_[state];
    if (cached.epoch == epoch_) return cached.entry;  // nullptr: no value in this state
    return FindInIndex(state, current_group_, current_key_, "");
  }
  // Find's probe, kept out of line so the cached path stays small enough to inline.
  [[gnu::noinline]] EntryMap::value_type* FindInIndex(StateId state, KeyGroup group,
                                                      std::string_view key,
                                                      std::string_view user_key) const {
    if (!user_key.empty() || !IsCurrentKey(group, key)) {
      return index_.Find(state, group, key, user_key);
    }
    CurrentEntry& cached = current_entries_[state];
    cached = {epoch_, index_.Find(state, group, key, user_key, current_hash_)};
    return cached.entry;
  }

  [[gnu::noinline]] void InsertCopy(StateId state, KeyGroup group, std::string_view key,
                                    std::string_view user_key, std::span<const uint8_t> value) {
    Insert(state, group, key, user_key, Value(value));
  }
  // Adds an entry that Find did not find, to the map and the index. Out of line: the callers'
  // overwrite path stays short.
  [[gnu::noinline]] void Insert(StateId state, KeyGroup group, std::string_view key,
                                std::string_view user_key, Value value) {
    EntryMap& entries = EntriesOf(state, group);
    const auto [it, added] =
        entries.emplace(EntryKey{group, std::string(key), std::string(user_key)}, std::move(value));
    FL_ASSERT(added, "the index lost track of an entry");
    AddToIndex(state, *it);
    // By content: the current key's entry may be added through another copy of its bytes,
    // and the cache must not keep saying the key has none.
    if (user_key.empty() && group == current_group_ && EqualBytes(key, current_key_)) {
      current_entries_[state] = {epoch_, &*it};
    }
  }
  void AddToIndex(StateId state, EntryMap::value_type& entry) { index_.Add(state, &entry); }
  void RebuildIndex() {
    index_.Clear();
    ++epoch_;  // cached entries belong to the maps just replaced
    current_entries_.resize(table_.entries.size());  // restored states not registered yet
    for (size_t id = 0; id < table_.entries.size(); ++id) {
      for (auto& entry : table_.entries[id]) AddToIndex(static_cast<StateId>(id), entry);
    }
  }

  Status RestoreOne(const RestoreSource& source, std::vector<const std::string*>& source_of_group,
                    StateTable& restored) const;

  const KeyGroupRange range_;
  StateTable table_;
  mutable size_t last_blob_bytes_ = 0;  // Capture's allocation hint
  EntryIndex index_;
  // The current key (SetCurrentKey) and, per state, what it holds there (see Find).
  struct CurrentEntry {
    uint64_t epoch = 0;  // the cache is valid when this is epoch_
    EntryMap::value_type* entry = nullptr;
  };
  static constexpr KeyGroup kNoGroup = UINT32_MAX;  // above any max parallelism
  KeyGroup current_group_ = kNoGroup;
  std::string_view current_key_;
  uint64_t current_hash_ = 0;
  uint64_t epoch_ = 1;
  mutable std::vector<CurrentEntry> current_entries_;
};

// Loads the key groups of `source` that this backend owns into `restored`. `source_of_group`
// records which blob gave each owned group, so two blobs cannot both fill one.
Status HeapStateBackend::RestoreOne(const RestoreSource& source,
                                    std::vector<const std::string*>& source_of_group,
                                    StateTable& restored) const {
  FL_ASSIGN_OR_RETURN(const OpenedBlob blob, BlobOpener(source).Open());
  // Map the blob's states to ours by name: ids may differ between backends and runs.
  std::vector<StateId> local_ids;
  for (const StateInfo& state : blob.states) {
    Result<StateId> id = FindOrAddState(restored, state.name, state.kind);
    if (!id.ok()) return id.status().WithContext("blob " + source.name);
    local_ids.push_back(*id);
  }
  const KeyGroupRange overlap = blob.range.Intersect(range_);
  for (KeyGroup group = overlap.first; group <= overlap.last; ++group) {
    const std::string*& owner = source_of_group[group - range_.first];
    if (owner != nullptr) {
      return InvalidArgumentError("key group " + std::to_string(group) + " is in both blob " +
                                  *owner + " and blob " + source.name);
    }
    owner = &source.name;
    FL_RETURN_IF_ERROR(LoadSection(blob, source.name, group, local_ids, restored));
  }
  return Status::Ok();
}

// Builds the new state aside and swaps it in only when every source loaded, so a failed restore
// leaves the backend as it was. Registrations survive (ids handed out stay valid); states the
// blobs name are added.
Status HeapStateBackend::Restore(const std::vector<RestoreSource>& sources) {
  StateTable restored;
  restored.states = table_.states;
  restored.entries.resize(table_.states.size());
  std::vector<const std::string*> source_of_group(range_.size(), nullptr);
  for (const RestoreSource& source : sources) {
    FL_RETURN_IF_ERROR(RestoreOne(source, source_of_group, restored));
  }
  table_ = std::move(restored);
  RebuildIndex();
  return Status::Ok();
}

}  // namespace

std::unique_ptr<KeyedStateBackend> NewHeapStateBackend(KeyGroupRange key_groups) {
  FL_ASSERT(key_groups.empty() || key_groups.last < kMaxParallelismUpperBound,
            "key groups beyond the largest max parallelism");
  return std::make_unique<HeapStateBackend>(key_groups);
}

}  // namespace faultline::engine
