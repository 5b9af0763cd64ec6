#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/hash.h"
#include "engine/state/key_groups.h"
#include "engine/state/state_backend.h"

namespace faultline::engine {
namespace {

constexpr uint32_t kMaxParallelism = 128;
const KeyGroupRange kAllGroups = KeyGroupRange::Of(0, kMaxParallelism - 1);

Bytes B(std::string_view text) {
  return Bytes(text.begin(), text.end());
}
std::string S(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}
std::optional<std::string> S(const std::optional<Bytes>& bytes) {
  if (!bytes) return std::nullopt;
  return S(*bytes);
}

StateId MustRegister(KeyedStateBackend& backend, std::string_view name, StateKind kind) {
  Result<StateId> id = backend.Register(name, kind);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.value_or(0);
}

// The entries a test wrote, to check a backend holds exactly these (through Get and counts).
struct Entry {
  std::string state;
  std::string key;
  std::string user_key;
  std::string value;
};

// Fills `backend` (which owns all groups) with entries in two states over many keys and groups:
// a value state "count" and a map state "seen" with a few user keys per key.
std::vector<Entry> Fill(KeyedStateBackend& backend, int keys) {
  const StateId count = MustRegister(backend, "count", StateKind::kValue);
  const StateId seen = MustRegister(backend, "seen", StateKind::kMap);
  std::vector<Entry> written;
  for (int k = 0; k < keys; ++k) {
    const std::string key = "key-" + std::to_string(k);
    const KeyGroup group = KeyGroupForKey(key, kMaxParallelism);
    backend.Put(count, group, key, "", B(std::to_string(k * 7)));
    written.push_back({"count", key, "", std::to_string(k * 7)});
    for (int u = 0; u < k % 4; ++u) {
      const std::string user_key = "u" + std::to_string(u);
      backend.Put(seen, group, key, user_key, B("v" + std::to_string(k + u)));
      written.push_back({"seen", key, user_key, "v" + std::to_string(k + u)});
    }
  }
  return written;
}

// Checks `backend` holds exactly the entries of `expected` whose group it owns.
void ExpectHolds(KeyedStateBackend& backend, const std::vector<Entry>& expected) {
  uint64_t owned = 0;
  for (const Entry& e : expected) {
    const KeyGroup group = KeyGroupForKey(e.key, kMaxParallelism);
    if (!backend.key_groups().Contains(group)) continue;
    ++owned;
    const StateId id =
        MustRegister(backend, e.state, e.state == "count" ? StateKind::kValue : StateKind::kMap);
    EXPECT_EQ(S(backend.Get(id, group, e.key, e.user_key)), e.value) << e.state << "/" << e.key;
  }
  EXPECT_EQ(backend.entry_count(), owned);
}

Bytes Materialize(const KeyedStateBackend& backend) {
  Result<Bytes> blob = backend.Capture()->Materialize();
  EXPECT_TRUE(blob.ok()) << blob.status().ToString();
  return blob.ok() ? *blob : Bytes();
}

TEST(HeapStateBackendTest, PutGetDelete) {
  auto backend = NewHeapStateBackend(kAllGroups);
  const StateId id = MustRegister(*backend, "sum", StateKind::kValue);
  EXPECT_EQ(backend->Get(id, 5, "a", ""), std::nullopt);
  backend->Put(id, 5, "a", "", B("1"));
  backend->Put(id, 6, "a", "", B("other group"));
  EXPECT_EQ(S(backend->Get(id, 5, "a", "")), "1");
  backend->Put(id, 5, "a", "", B("2"));
  EXPECT_EQ(S(backend->Get(id, 5, "a", "")), "2");
  EXPECT_EQ(backend->entry_count(), 2u);
  backend->Delete(id, 5, "a", "");
  EXPECT_EQ(backend->Get(id, 5, "a", ""), std::nullopt);
  backend->Delete(id, 5, "a", "");  // deleting what is absent is fine
  EXPECT_EQ(S(backend->Get(id, 6, "a", "")), "other group");
  EXPECT_EQ(backend->entry_count(), 1u);
}

// Random point operations (all four access paths) against a plain map, with enough keys that
// the backend's hash index grows and deletions shift probe runs, and a restore in between.
TEST(HeapStateBackendTest, RandomOperationsMatchAPlainMap) {
  auto backend = NewHeapStateBackend(kAllGroups);
  const StateId states[] = {MustRegister(*backend, "a", StateKind::kValue),
                            MustRegister(*backend, "b", StateKind::kReducing),
                            MustRegister(*backend, "m", StateKind::kMap)};
  std::map<std::tuple<StateId, std::string, std::string>, std::string> reference;
  uint64_t rng = 0x9e3779b97f4a7c15ULL;
  const auto next = [&rng](uint64_t bound) {
    rng = Mix64(rng + 0x9e3779b97f4a7c15ULL);
    return rng % bound;
  };
  Bytes scratch;
  Bytes earlier_blob;
  std::map<std::tuple<StateId, std::string, std::string>, std::string> earlier_reference;
  // The current key (SetCurrentKey): some operations use its very bytes, others a copy.
  std::string current;
  for (int step = 0; step < 60'000; ++step) {
    const StateId state = states[next(3)];
    std::string copy = "k" + std::to_string(next(700));
    if (next(4) == 0) {
      current = copy;
      backend->SetCurrentKey(KeyGroupForKey(current, kMaxParallelism), current);
    } else if (next(50) == 0) {
      backend->ClearCurrentKey();
    }
    if (next(3) == 0 && !current.empty()) copy = std::string(current.data(), current.size());
    const bool use_current = next(2) == 0 && !current.empty();
    const std::string& key = use_current ? current : copy;  // the same content, or another key
    const std::string user_key = state == states[2] ? "u" + std::to_string(next(4)) : "";
    const KeyGroup group = KeyGroupForKey(key, kMaxParallelism);
    const auto at = std::make_tuple(state, key, user_key);
    // Short values live inside the entry, long ones on the heap: overwrites cross both ways.
    const std::string value =
        "v" + std::to_string(step) + std::string(next(3) == 0 ? 20 : next(12), 'x');
    // Current-key access (GetCurrent / PutCurrent) when a key is set, else a plain Get.
    const bool current_set = backend->has_current_key();
    const auto at_current = std::make_tuple(state, current, std::string());
    switch (next(7)) {
      case 5:
        if (current_set && state != states[2]) {
          backend->PutCurrent(state, B(value));
          reference[at_current] = value;
        }
        break;
      case 6:
        if (current_set && state != states[2]) {
          const auto found = reference.find(at_current);
          const bool got = backend->GetCurrent(state, scratch);
          ASSERT_EQ(got, found != reference.end()) << step;
          if (got) {
            ASSERT_EQ(S(scratch), found->second) << step;
          }
        }
        break;
      case 0:
        backend->Put(state, group, key, user_key, B(value));
        reference[at] = value;
        break;
      case 1: {
        const Bytes bytes = B(value);
        backend->PutCopy(state, group, key, user_key, bytes);
        reference[at] = value;
        break;
      }
      case 2:
        backend->Delete(state, group, key, user_key);
        reference.erase(at);
        break;
      case 3: {
        const auto found = reference.find(at);
        const bool got = backend->GetInto(state, group, key, user_key, scratch);
        ASSERT_EQ(got, found != reference.end()) << step;
        if (got) {
          ASSERT_EQ(S(scratch), found->second) << step;
        }
        break;
      }
      default: {
        const auto found = reference.find(at);
        ASSERT_EQ(S(backend->Get(state, group, key, user_key)),
                  found == reference.end() ? std::nullopt : std::optional(found->second))
            << step;
      }
    }
    if (step == 30'000) {  // the index is rebuilt from restored maps
      const Bytes blob = Materialize(*backend);
      ASSERT_TRUE(backend->Restore({RestoreSource{"blob", &blob}}).ok());
      earlier_blob = blob;
      earlier_reference = reference;
    }
    if (step == 45'000) {  // back to older contents, the current key kept: nothing cached survives
      ASSERT_TRUE(backend->Restore({RestoreSource{"blob", &earlier_blob}}).ok());
      reference = earlier_reference;
      ASSERT_TRUE(backend->has_current_key());
      for (const StateId s : {states[0], states[1]}) {
        const auto found = reference.find(std::make_tuple(s, current, std::string()));
        ASSERT_EQ(backend->GetCurrent(s, scratch), found != reference.end());
        if (found != reference.end()) {
          ASSERT_EQ(S(scratch), found->second);
        }
      }
    }
  }
  ASSERT_EQ(backend->entry_count(), reference.size());
  for (const auto& [at, value] : reference) {
    const auto& [state, key, user_key] = at;
    EXPECT_EQ(S(backend->Get(state, KeyGroupForKey(key, kMaxParallelism), key, user_key)), value);
  }
}

TEST(HeapStateBackendTest, StatesAreSeparate) {
  auto backend = NewHeapStateBackend(kAllGroups);
  const StateId a = MustRegister(*backend, "a", StateKind::kValue);
  const StateId b = MustRegister(*backend, "b", StateKind::kValue);
  EXPECT_NE(a, b);
  backend->Put(a, 1, "k", "", B("in a"));
  EXPECT_EQ(backend->Get(b, 1, "k", ""), std::nullopt);
}

TEST(HeapStateBackendTest, ForEachVisitsOneKeyInUserKeyOrder) {
  auto backend = NewHeapStateBackend(kAllGroups);
  const StateId id = MustRegister(*backend, "m", StateKind::kMap);
  // Bytes compare unsigned: "\x80" sorts after "z", as in RocksDB's bytewise order.
  for (const char* user_key : {"c", "\x80", "a", "b", "z"}) {
    backend->Put(id, 3, "k", user_key, B(user_key));
  }
  backend->Put(id, 3, "j", "a", B("other key"));
  backend->Put(id, 3, "ka", "a", B("key with k as prefix"));
  backend->Put(id, 4, "k", "a", B("other group"));
  std::vector<std::string> seen;
  backend->ForEach(id, 3, "k", [&seen](std::string_view user_key, std::span<const uint8_t> value) {
    seen.push_back(std::string(user_key) + "=" + S(Bytes(value.begin(), value.end())));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a=a", "b=b", "c=c", "z=z", "\x80=\x80"}));
}

TEST(HeapStateBackendTest, RegisterFindsByNameAndKeepsKind) {
  auto backend = NewHeapStateBackend(kAllGroups);
  const StateId id = MustRegister(*backend, "s", StateKind::kList);
  EXPECT_EQ(MustRegister(*backend, "s", StateKind::kList), id);
  const Result<StateId> wrong_kind = backend->Register("s", StateKind::kMap);
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_EQ(wrong_kind.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_kind.status().message().find("'s'"), std::string_view::npos);
  EXPECT_EQ(backend->Register("", StateKind::kValue).status().code(), StatusCode::kInvalidArgument);
}

TEST(HeapStateBackendTest, CaptureDoesNotSeeLaterChanges) {
  auto backend = NewHeapStateBackend(kAllGroups);
  const std::vector<Entry> written = Fill(*backend, 50);
  const uint64_t digest = backend->Digest();
  const std::unique_ptr<StateSnapshot> snapshot = backend->Capture();
  EXPECT_EQ(snapshot->entries(), written.size());

  const StateId count = MustRegister(*backend, "count", StateKind::kValue);
  const KeyGroup group = KeyGroupForKey("key-1", kMaxParallelism);
  backend->Put(count, group, "key-1", "", B("changed"));
  backend->Delete(count, KeyGroupForKey("key-2", kMaxParallelism), "key-2", "");
  backend->Put(count, 0, "new key", "", B("new"));
  MustRegister(*backend, "registered later", StateKind::kValue);

  const Result<Bytes> blob = snapshot->Materialize();
  ASSERT_TRUE(blob.ok());
  auto restored = NewHeapStateBackend(kAllGroups);
  ASSERT_TRUE(restored->Restore({{"cp-1/op-0.state", &*blob}}).ok());
  EXPECT_EQ(restored->Digest(), digest);
  ExpectHolds(*restored, written);
}

TEST(HeapStateBackendTest, MaterializeRestoreRoundTrip) {
  auto backend = NewHeapStateBackend(kAllGroups);
  const std::vector<Entry> written = Fill(*backend, 300);
  const Bytes blob = Materialize(*backend);
  EXPECT_EQ(Materialize(*backend), blob);  // deterministic bytes

  // The target registered its states in another order (other ids) and held other entries,
  // which the restore replaces.
  auto target = NewHeapStateBackend(kAllGroups);
  const StateId seen = MustRegister(*target, "seen", StateKind::kMap);
  const StateId stale = MustRegister(*target, "stale", StateKind::kValue);
  target->Put(stale, 9, "old", "", B("gone after restore"));
  ASSERT_TRUE(target->Restore({{"cp-1/op-0.state", &blob}}).ok());
  EXPECT_EQ(MustRegister(*target, "seen", StateKind::kMap), seen);  // ids stay valid
  EXPECT_EQ(target->Get(stale, 9, "old", ""), std::nullopt);
  EXPECT_EQ(target->Digest(), backend->Digest());
  ExpectHolds(*target, written);
}

// An operator restored from a checkpoint sets its first key before it registers (looks up)
// the restored states: the current key's cache must cover states it has not seen registered.
TEST(HeapStateBackendTest, CurrentKeyBeforeRestoredStatesAreRegistered) {
  auto backend = NewHeapStateBackend(kAllGroups);
  const StateId a = MustRegister(*backend, "a", StateKind::kValue);
  const StateId b = MustRegister(*backend, "b", StateKind::kValue);
  for (int k = 0; k < 50; ++k) {
    const std::string key = "k" + std::to_string(k);
    const KeyGroup group = KeyGroupForKey(key, kMaxParallelism);
    backend->Put(a, group, key, "", B("a" + std::to_string(k)));
    if (k % 2 == 0) backend->Put(b, group, key, "", B("b" + std::to_string(k)));
  }
  const Bytes blob = Materialize(*backend);

  auto target = NewHeapStateBackend(kAllGroups);
  ASSERT_TRUE(target->Restore({RestoreSource{"blob", &blob}}).ok());
  Bytes scratch;
  for (int k = 0; k < 50; ++k) {
    const std::string key = "k" + std::to_string(k);
    const KeyGroup group = KeyGroupForKey(key, kMaxParallelism);
    target->SetCurrentKey(group, key);
    const StateId tb = MustRegister(*target, "b", StateKind::kValue);
    const StateId ta = MustRegister(*target, "a", StateKind::kValue);
    ASSERT_TRUE(target->GetInto(ta, group, key, "", scratch)) << key;
    EXPECT_EQ(S(scratch), "a" + std::to_string(k));
    ASSERT_EQ(target->GetInto(tb, group, key, "", scratch), k % 2 == 0) << key;
    if (k % 2 == 0) {
      EXPECT_EQ(S(scratch), "b" + std::to_string(k));
    }
    target->PutCopy(tb, group, key, "", B("new"));  // inserted or overwritten via the cache
    ASSERT_TRUE(target->GetInto(tb, group, key, "", scratch));
    EXPECT_EQ(S(scratch), "new");
    target->ClearCurrentKey();
  }
  EXPECT_EQ(target->entry_count(), 100u);
}

TEST(HeapStateBackendTest, MaterializeOnceHandsOverTheSameBytes) {
  auto backend = NewHeapStateBackend(kAllGroups);
  Fill(*backend, 50);
  std::unique_ptr<StateSnapshot> snapshot = backend->Capture();
  const Result<Bytes> copied = snapshot->Materialize();
  const uint64_t digest = snapshot->digest();
  const Result<Bytes> taken = snapshot->MaterializeOnce();
  ASSERT_TRUE(copied.ok() && taken.ok());
  EXPECT_FALSE(taken->empty());
  EXPECT_EQ(*taken, *copied);
  // The whole blob's checksum, computed while encoding, is the one the upload would compute.
  EXPECT_EQ(snapshot->MaterializedChecksum(),
            std::optional(Checksum(std::as_bytes(std::span<const uint8_t>(*copied)))));
  EXPECT_EQ(snapshot->digest(), digest);  // still meaningful afterwards
  EXPECT_EQ(snapshot->entries(), backend->entry_count());
}

// GetCurrent / PutCurrent for a state registered after the key was set, and for a map state
// (its entry with an empty user key), agree with the explicit-key access.
TEST(HeapStateBackendTest, CurrentKeyAccessCoversLateStatesAndMapState) {
  auto backend = NewHeapStateBackend(kAllGroups);
  const StateId early = MustRegister(*backend, "early", StateKind::kValue);
  const std::string key = "k1";
  const KeyGroup group = KeyGroupForKey(key, kMaxParallelism);
  backend->Put(early, group, key, "", B("e"));
  backend->SetCurrentKey(group, key);
  Bytes scratch;
  ASSERT_TRUE(backend->GetCurrent(early, scratch));
  EXPECT_EQ(S(scratch), "e");
  const StateId late = MustRegister(*backend, "late", StateKind::kValue);
  EXPECT_FALSE(backend->GetCurrent(late, scratch));
  backend->PutCurrent(late, B("l"));
  ASSERT_TRUE(backend->GetCurrent(late, scratch));
  EXPECT_EQ(S(scratch), "l");
  EXPECT_EQ(S(backend->Get(late, group, key, "")), "l");
  const StateId map = MustRegister(*backend, "map", StateKind::kMap);
  backend->Put(map, group, key, "u", B("user key u"));
  EXPECT_FALSE(backend->GetCurrent(map, scratch));  // only the empty user key is "current"
  backend->PutCurrent(map, B("empty user key"));
  EXPECT_EQ(S(backend->Get(map, group, key, "")), "empty user key");
  EXPECT_EQ(S(backend->Get(map, group, key, "u")), "user key u");
  backend->Delete(late, group, key, "");
  EXPECT_FALSE(backend->GetCurrent(late, scratch));
  backend->ClearCurrentKey();
  EXPECT_FALSE(backend->has_current_key());
  EXPECT_EQ(backend->entry_count(), 3u);
}

TEST(HeapStateBackendTest, EmptyBackendRoundTrips) {
  auto backend = NewHeapStateBackend(KeyGroupRange::Of(10, 19));
  const Bytes blob = Materialize(*backend);
  auto target = NewHeapStateBackend(KeyGroupRange::Of(10, 19));
  ASSERT_TRUE(target->Restore({{"empty", &blob}}).ok());
  EXPECT_EQ(target->entry_count(), 0u);
  EXPECT_EQ(target->Digest(), 0u);
}

TEST(HeapStateBackendTest, RescaleSplitsAndMergesKeyGroups) {
  auto whole = NewHeapStateBackend(kAllGroups);
  const std::vector<Entry> written = Fill(*whole, 400);
  const Bytes blob = Materialize(*whole);

  auto left = NewHeapStateBackend(KeyGroupRangeForOperator(0, 2, kMaxParallelism));
  auto right = NewHeapStateBackend(KeyGroupRangeForOperator(1, 2, kMaxParallelism));
  ASSERT_EQ(left->key_groups(), KeyGroupRange::Of(0, 63));
  ASSERT_EQ(right->key_groups(), KeyGroupRange::Of(64, 127));
  ASSERT_TRUE(left->Restore({{"cp-1/op-0.state", &blob}}).ok());
  ASSERT_TRUE(right->Restore({{"cp-1/op-0.state", &blob}}).ok());
  ExpectHolds(*left, written);
  ExpectHolds(*right, written);
  EXPECT_GT(left->entry_count(), 0u);
  EXPECT_GT(right->entry_count(), 0u);
  EXPECT_EQ(left->entry_count() + right->entry_count(), written.size());

  // Scale back in: one backend reads both halves and holds the original state.
  const Bytes left_blob = Materialize(*left);
  const Bytes right_blob = Materialize(*right);
  auto merged = NewHeapStateBackend(kAllGroups);
  ASSERT_TRUE(
      merged->Restore({{"cp-2/op-1.state", &right_blob}, {"cp-2/op-0.state", &left_blob}}).ok());
  EXPECT_EQ(merged->Digest(), whole->Digest());
  ExpectHolds(*merged, written);
}

TEST(HeapStateBackendTest, TwoBlobsFillingOneGroupFail) {
  auto backend = NewHeapStateBackend(kAllGroups);
  Fill(*backend, 10);
  const Bytes blob = Materialize(*backend);
  auto target = NewHeapStateBackend(KeyGroupRange::Of(0, 63));
  const Status status = target->Restore({{"a.state", &blob}, {"b.state", &blob}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("a.state"), std::string_view::npos) << status.ToString();
  EXPECT_NE(status.message().find("b.state"), std::string_view::npos) << status.ToString();
}

TEST(HeapStateBackendTest, KindMismatchWithBlobFails) {
  auto backend = NewHeapStateBackend(kAllGroups);
  Fill(*backend, 10);
  const Bytes blob = Materialize(*backend);
  auto target = NewHeapStateBackend(kAllGroups);
  MustRegister(*target, "count", StateKind::kReducing);
  const Status status = target->Restore({{"cp-4/x.state", &blob}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("cp-4/x.state"), std::string_view::npos) << status.ToString();
}

// A small blob over every state kind, for the corruption tests, and the digest of its state.
std::pair<Bytes, uint64_t> SmallBlob() {
  auto backend = NewHeapStateBackend(KeyGroupRange::Of(0, 7));
  const StateId value = MustRegister(*backend, "v", StateKind::kValue);
  const StateId map = MustRegister(*backend, "m", StateKind::kMap);
  backend->Put(value, 0, "a", "", B("1"));
  backend->Put(value, 3, "b", "", B("22"));
  backend->Put(map, 3, "b", "x", B("333"));
  backend->Put(map, 7, "c", "y", B(""));
  return {Materialize(*backend), backend->Digest()};
}

void ExpectDataLossNamingBlob(KeyedStateBackend& target, const Bytes& blob, uint64_t digest,
                              const std::string& context) {
  const Status status = target.Restore({{"cp-3/sum-1.state", &blob}});
  ASSERT_EQ(status.code(), StatusCode::kDataLoss) << context << ": " << status.ToString();
  ASSERT_EQ(status.message().rfind("blob cp-3/sum-1.state: ", 0), 0u) << status.ToString();
  ASSERT_EQ(target.Digest(), digest) << context << ": a failed restore changed the state";
}

TEST(HeapStateBackendTest, AnyBitFlipIsDataLoss) {
  const auto [blob, digest] = SmallBlob();
  auto target = NewHeapStateBackend(KeyGroupRange::Of(0, 7));
  ASSERT_TRUE(target->Restore({{"good", &blob}}).ok());
  ASSERT_EQ(target->Digest(), digest);
  for (size_t byte = 0; byte < blob.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes flipped = blob;
      flipped[byte] = static_cast<uint8_t>(flipped[byte] ^ (1u << bit));
      ExpectDataLossNamingBlob(*target, flipped, digest,
                               "byte " + std::to_string(byte) + " bit " + std::to_string(bit));
    }
  }
}

TEST(HeapStateBackendTest, TruncatedOrExtendedBlobIsDataLoss) {
  const auto [blob, digest] = SmallBlob();
  auto target = NewHeapStateBackend(KeyGroupRange::Of(0, 7));
  for (size_t size = 0; size < blob.size(); ++size) {
    const Bytes truncated(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(size));
    ExpectDataLossNamingBlob(*target, truncated, 0, "truncated to " + std::to_string(size));
  }
  Bytes extended = blob;
  extended.push_back(0);
  ExpectDataLossNamingBlob(*target, extended, 0, "one byte appended");
}

TEST(HeapStateBackendTest, UnknownVersionIsDataLoss) {
  Bytes blob = SmallBlob().first;
  blob[8] = 2;  // the format version (u32 after the 8-byte magic), with a correct checksum
  const size_t body_bytes = blob.size() - 8;
  const uint64_t checksum =
      Checksum(std::as_bytes(std::span<const uint8_t>(blob.data(), body_bytes)));
  for (size_t i = 0; i < 8; ++i) blob[body_bytes + i] = static_cast<uint8_t>(checksum >> (8 * i));
  auto target = NewHeapStateBackend(KeyGroupRange::Of(0, 7));
  const Status status = target->Restore({{"cp-3/sum-1.state", &blob}});
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("format version 2"), std::string_view::npos) << status.ToString();
}

TEST(HeapStateBackendTest, DigestIgnoresOrderAndSeesEveryChange) {
  std::vector<std::tuple<KeyGroup, std::string, std::string, std::string>> entries;
  for (int i = 0; i < 40; ++i) {
    entries.emplace_back(static_cast<KeyGroup>(i % 16), "k" + std::to_string(i % 7),
                         "u" + std::to_string(i), "v" + std::to_string(i));
  }
  auto forward = NewHeapStateBackend(KeyGroupRange::Of(0, 15));
  auto backward = NewHeapStateBackend(KeyGroupRange::Of(0, 15));
  MustRegister(*backward, "unused", StateKind::kList);  // other ids, and an empty state
  const StateId f = MustRegister(*forward, "m", StateKind::kMap);
  const StateId b = MustRegister(*backward, "m", StateKind::kMap);
  for (const auto& [group, key, user_key, value] : entries) {
    forward->Put(f, group, key, user_key, B(value));
  }
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const auto& [group, key, user_key, value] = *it;
    backward->Put(b, group, key, user_key, B(value));
  }
  const uint64_t digest = forward->Digest();
  EXPECT_NE(digest, 0u);
  EXPECT_EQ(backward->Digest(), digest);

  const auto& [group, key, user_key, value] = entries[17];
  backward->Put(b, group, key, user_key, B(value + "!"));
  EXPECT_NE(backward->Digest(), digest);
  backward->Put(b, group, key, user_key, B(value));
  EXPECT_EQ(backward->Digest(), digest);
  backward->Delete(b, group, key, user_key);
  EXPECT_NE(backward->Digest(), digest);

  // The same entries under another state name are other contents.
  auto renamed = NewHeapStateBackend(KeyGroupRange::Of(0, 15));
  const StateId r = MustRegister(*renamed, "m2", StateKind::kMap);
  for (const auto& [g, k, u, v] : entries) renamed->Put(r, g, k, u, B(v));
  EXPECT_NE(renamed->Digest(), digest);
}

// The digest is the formula state_backend.h gives, for entries on both sides of the size up to
// which the backend lays the bytes out itself instead of through a Hasher.
TEST(HeapStateBackendTest, DigestIsTheDocumentedFormula) {
  auto backend = NewHeapStateBackend(kAllGroups);
  const StateId id = MustRegister(*backend, "state", StateKind::kMap);
  uint64_t expected = 0;
  for (size_t n = 0; n < 300; n += 7) {
    const std::string key = "key-" + std::to_string(n);
    const std::string user_key = n % 2 == 0 ? "" : "u" + std::to_string(n);
    const std::string value(n, static_cast<char>('a' + n % 26));
    const KeyGroup group = KeyGroupForKey(key, kMaxParallelism);
    backend->Put(id, group, key, user_key, B(value));
    expected += Hasher()
                    .Text("state")
                    .U64(group)
                    .Text(key)
                    .Text(user_key)
                    .Bytes(std::as_bytes(std::span<const char>(value.data(), value.size())))
                    .Finish();
  }
  EXPECT_EQ(backend->Digest(), expected);
  EXPECT_EQ(backend->Capture()->digest(), expected);
}

}  // namespace
}  // namespace faultline::engine

namespace faultline::engine {
namespace {

TEST(HeapStateBackendForEachEntryTest, VisitsEveryEntryInOrder) {
  auto backend = NewHeapStateBackend(KeyGroupRange::Of(0, 9));
  const StateId a = backend->Register("a", StateKind::kValue).value();
  const StateId m = backend->Register("m", StateKind::kMap).value();
  backend->Put(m, 3, "k2", "u1", Bytes{1});
  backend->Put(a, 5, "k1", "", Bytes{2});
  backend->Put(m, 3, "k1", "u2", Bytes{3});
  std::vector<std::string> seen;
  backend->ForEachEntry([&seen](std::string_view state, KeyGroup group, std::string_view key,
                                std::string_view user_key, std::span<const uint8_t> value) {
    seen.push_back(std::string(state) + "/" + std::to_string(group) + "/" + std::string(key) + "/" +
                   std::string(user_key) + "=" + std::to_string(value[0]));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a/5/k1/=2", "m/3/k1/u2=3", "m/3/k2/u1=1"}));
}

}  // namespace
}  // namespace faultline::engine
