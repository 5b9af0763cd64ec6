// The heap keyed state backend: ordered maps in memory, with a hash index for point access.
// Capture writes the keyed-state blob (engine/state/keyed_state_blob.h, docs/blob-format.md)
// straight from the maps; Restore reads any backend's blobs back.
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
#include "engine/state/keyed_state_blob.h"
#include "engine/state/state_backend.h"

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

// Registered states and their entries; index = StateId. Both the backend and its snapshots
// hold one (a snapshot a copy).
struct StateTable {
  std::vector<KeyedStateInfo> states;
  std::vector<EntryMap> entries;
};

// The registry rule every backend shares (keyed_state_blob.h), with an entry map per state.
Result<StateId> FindOrAddState(StateTable& table, std::string_view name, StateKind kind) {
  Result<StateId> id = engine::FindOrAddState(table.states, name, kind);
  table.entries.resize(table.states.size());
  return id;
}

// ---- Blob encoding ---------------------------------------------------------------------------

uint64_t EntryDigest(std::string_view state_name, const EntryKey& key, const Value& value) {
  return KeyedStateEntryDigest(state_name, key.group, key.key, key.user_key, value.bytes());
}

// Writes the blob of `table` over `range` from the maps, and sums the digest of every entry
// written into `digest` (one walk). `size_hint`: the expected size (the previous blob's). Sets
// `blob_checksum` to Checksum() of the returned bytes.
Bytes EncodeBlob(const KeyGroupRange& range, const StateTable& table, uint64_t& digest,
                 uint64_t& blob_checksum, size_t size_hint) {
  KeyedStateBlobWriter out(range, table.states, size_hint);
  // `next[s]`: the first entry of state s not yet written; the maps are ordered by group first,
  // so walking groups in ascending order only advances it.
  std::vector<EntryMap::const_iterator> next;
  for (const EntryMap& entries : table.entries) next.push_back(entries.begin());
  for (uint32_t i = 0; i < range.size(); ++i) {
    const KeyGroup group = range.first + i;
    out.BeginSection(group);
    for (size_t id = 0; id < table.entries.size(); ++id) {
      auto& it = next[id];
      for (; it != table.entries[id].end() && it->first.group == group; ++it) {
        out.Add(static_cast<uint32_t>(id), it->first.key, it->first.user_key, it->second.bytes());
        digest += EntryDigest(table.states[id].name, it->first, it->second);
      }
    }
  }
  for (size_t id = 0; id < next.size(); ++id) {
    FL_ASSERT(next[id] == table.entries[id].end(), "an entry outside the backend's key groups");
  }
  return std::move(out).Finish(blob_checksum);
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
  uint64_t digest_ = 0;         // before blob_: EncodeBlob sums into it
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

// Builds the new state aside and swaps it in only when every source loaded, so a failed restore
// leaves the backend as it was. Registrations survive (ids handed out stay valid); states the
// blobs name are added.
Status HeapStateBackend::Restore(const std::vector<RestoreSource>& sources) {
  StateTable restored;
  restored.states = table_.states;
  restored.entries.resize(table_.states.size());
  FL_RETURN_IF_ERROR(ReadRestoreSources(
      sources, range_, restored.states,
      [&restored](StateId state, KeyGroup group, std::string_view key, std::string_view user_key,
                  std::span<const uint8_t> value) {
        restored.entries.resize(restored.states.size());  // states the blobs added
        const bool added =
            restored.entries[state]
                .emplace(EntryKey{group, std::string(key), std::string(user_key)}, Value(value))
                .second;
        FL_ASSERT(added, "a restored entry that is already present");
      }));
  restored.entries.resize(restored.states.size());
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
