// The checkers' blob reader and key-group math, written from docs/blob-format.md and
// docs/engine.md, against what the engine writes and routes: they must agree on every correct
// blob and key, and the reader must refuse what the spec says a reader refuses.
#include "checkers/blob_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "base/hash.h"
#include "checkers/key_groups.h"
#include "checkers/keyed_state.h"
#include "engine/state/key_groups.h"
#include "engine/state/state_backend.h"

namespace faultline::checkers {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes B(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

TEST(CheckerKeyGroups, AgreeWithTheEnginesRoutingAndFlinksRanges) {
  for (uint32_t max_parallelism : {128u, 200u, 32768u}) {
    for (int k = 0; k < 2000; ++k) {
      const std::string key = "key-" + std::to_string(k);
      ASSERT_EQ(GroupOfKey(key, max_parallelism), engine::KeyGroupForKey(key, max_parallelism));
    }
    for (uint32_t p : {1u, 3u, 7u, 128u}) {
      for (uint32_t i = 0; i < p; ++i) {
        const engine::KeyGroupRange want = engine::KeyGroupRangeForOperator(i, p, max_parallelism);
        EXPECT_EQ(GroupsOfSubtask(i, p, max_parallelism), (GroupRange{want.first, want.last}));
      }
      for (uint32_t g = 0; g < max_parallelism; g += 7) {
        EXPECT_EQ(SubtaskOfGroup(g, p, max_parallelism),
                  engine::OperatorIndexForKeyGroup(g, p, max_parallelism));
      }
    }
  }
  // Flink's computeKeyGroupRangeForOperatorIndex for p = 3, max 128, worked by hand.
  EXPECT_EQ(GroupsOfSubtask(0, 3, 128), (GroupRange{0, 42}));
  EXPECT_EQ(GroupsOfSubtask(1, 3, 128), (GroupRange{43, 85}));
  EXPECT_EQ(GroupsOfSubtask(2, 3, 128), (GroupRange{86, 127}));
  EXPECT_EQ(SubtaskOfGroup(42, 3, 128), 0u);
  EXPECT_EQ(SubtaskOfGroup(43, 3, 128), 1u);
}

TEST(CheckerBlobReader, DecodesWhatTheHeapBackendWritesAndRecomputesItsDigest) {
  const engine::KeyGroupRange range = engine::KeyGroupRange::Of(10, 70);
  std::unique_ptr<engine::KeyedStateBackend> backend = engine::NewHeapStateBackend(range);
  const engine::StateId count = backend->Register("count", engine::StateKind::kValue).value();
  const engine::StateId seen = backend->Register("seen", engine::StateKind::kMap).value();
  using Entry = std::tuple<std::string, uint32_t, std::string, std::string, Bytes>;
  std::vector<Entry> written;
  for (int k = 0; k < 400; ++k) {
    const std::string key = "key-" + std::to_string(k);
    const uint32_t group = GroupOfKey(key, 128);
    if (!range.Contains(group)) continue;
    const Bytes value = k % 50 == 0 ? Bytes(300, 'x') : B(std::to_string(k * 7));
    backend->Put(count, group, key, "", value);
    written.emplace_back("count", group, key, "", value);
    if (k % 3 == 0) {
      backend->Put(seen, group, key, "u\xff", B(""));
      written.emplace_back("seen", group, key, "u\xff", B(""));
    }
  }
  ASSERT_GT(written.size(), 100u);
  std::unique_ptr<engine::StateSnapshot> snapshot = backend->Capture();
  const Bytes blob = snapshot->Materialize().value();

  Result<DecodedBlob> decoded = DecodeKeyedBlob(blob, "b");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->range, (GroupRange{10, 70}));
  ASSERT_EQ(decoded->states.size(), 2u);
  EXPECT_EQ(decoded->states[1].name, "seen");
  EXPECT_EQ(decoded->states[1].kind, 3);
  std::vector<Entry> read;
  for (const BlobEntry& e : decoded->entries) {
    read.emplace_back(e.state, e.group, e.key, e.user_key, e.value);
  }
  std::sort(read.begin(), read.end());
  std::sort(written.begin(), written.end());
  EXPECT_EQ(read, written);
  EXPECT_EQ(StateDigestOf(decoded->entries), snapshot->digest());
}

// The spec's example blob, built byte by byte from docs/blob-format.md, with one entry.
Bytes SpecExample() {
  Bytes blob = {0x46, 0x4C, 0x4B, 0x53, 0x54, 0x41, 0x54, 0x45,  // magic
                0x01, 0x00, 0x00, 0x00,                          // version
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // size, set below
                0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,  // groups 3..4
                0x01, 0x00, 0x00, 0x00,                          // 1 state
                0x00, 0x00, 0x00, 0x00, 0x01,                    // id 0, value
                0x05, 0x00, 0x00, 0x00, 'c',  'o',  'u',  'n',  't',  0x46, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00,                                // group 3 at 70
                0x52, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // group 4 at 82
                0x70, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // end at 112
                0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
                0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x01, 0x00, 0x00, 0x00, 'k',  0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 'v'};
  blob.resize(blob.size() + 8);
  blob[12] = static_cast<uint8_t>(blob.size());
  const uint64_t sum = Hash64(std::as_bytes(std::span<const uint8_t>(blob.data(), 112)));
  for (size_t i = 0; i < 8; ++i) blob[112 + i] = static_cast<uint8_t>(sum >> (8 * i));
  return blob;
}

void Reseal(Bytes& blob) {
  const uint64_t sum =
      Hash64(std::as_bytes(std::span<const uint8_t>(blob.data(), blob.size() - 8)));
  for (size_t i = 0; i < 8; ++i) blob[blob.size() - 8 + i] = static_cast<uint8_t>(sum >> (8 * i));
}

std::string Error(const Bytes& blob) {
  Result<DecodedBlob> decoded = DecodeKeyedBlob(blob, "b");
  return decoded.ok() ? "" : decoded.status().ToString();
}

TEST(CheckerBlobReader, ReadsTheSpecExample) {
  Result<DecodedBlob> decoded = DecodeKeyedBlob(SpecExample(), "b");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->entries.size(), 1u);
  EXPECT_EQ(decoded->entries[0].state, "count");
  EXPECT_EQ(decoded->entries[0].group, 4u);
  EXPECT_EQ(decoded->entries[0].key, "k");
  EXPECT_EQ(decoded->entries[0].value, B("v"));
}

TEST(CheckerBlobReader, RefusesWhatTheSpecSaysToRefuse) {
  const Bytes good = SpecExample();
  const auto refused = [](Bytes blob, bool reseal, std::string_view why) {
    if (reseal) Reseal(blob);
    const std::string error = Error(blob);
    EXPECT_NE(error.find("DATA_LOSS"), std::string::npos) << error;
    EXPECT_NE(error.find(why), std::string::npos) << error;
  };
  refused(Bytes(good.begin(), good.begin() + 20), false, "fewer than the 28");
  refused(Bytes(good.begin(), good.end() - 1), false, "truncated");
  Bytes b = good;
  b[1] = 'X';
  refused(b, false, "magic");
  b = good;
  b[40] ^= 1;
  refused(b, false, "checksum");
  b = good;
  b[8] = 2;
  refused(b, true, "version 2");
  b = good;
  b[36] = 9;
  refused(b, true, "kind 9");
  b = good;
  b[62] = 0x6F;
  refused(b, true, "do not end at the trailer");
  b = good;
  b[82] = 3;  // group 4's section labelled 3
  refused(b, true, "key group 4: section labelled 3");
  b = good;
  b[94] = 7;  // an entry of an unregistered state
  refused(b, true, "unregistered state id");
  b = good;
  b[86] = 2;  // two entries claimed, one present
  refused(b, true, "incomplete");
}

TEST(CheckerKeyedSnapshot, RefusesABlobOfTheWrongRangeOrAKeyInAnotherGroupsSection) {
  // Subtask 1 of 2 over 128 groups owns [64, 127].
  const GroupRange owned = GroupsOfSubtask(1, 2, 128);
  std::unique_ptr<engine::KeyedStateBackend> backend =
      engine::NewHeapStateBackend(engine::KeyGroupRange::Of(owned.first, owned.last));
  const engine::StateId count = backend->Register("count", engine::StateKind::kValue).value();
  std::string key;
  for (int k = 0; key.empty(); ++k) {
    const std::string candidate = "key-" + std::to_string(k);
    if (SubtaskOfKey(candidate, 2, 128) == 1) key = candidate;
  }
  const uint32_t group = GroupOfKey(key, 128);
  backend->Put(count, group, key, "", B("12345678"));
  const Bytes good = backend->Capture()->Materialize().value();
  ASSERT_TRUE(ReadKeyedSnapshot(good, "b", owned, 128).ok());

  const auto refused = ReadKeyedSnapshot(good, "b", GroupsOfSubtask(0, 2, 128), 128);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().ToString().find("holds key groups [64, 127]"), std::string::npos)
      << refused.status().ToString();

  // The same key filed under a neighbouring group of the subtask (a wrong routing or plan).
  const uint32_t wrong = group == owned.last ? group - 1 : group + 1;
  backend->Delete(count, group, key, "");
  backend->Put(count, wrong, key, "", B("12345678"));
  const Bytes misfiled = backend->Capture()->Materialize().value();
  const auto misplaced = ReadKeyedSnapshot(misfiled, "b", owned, 128);
  EXPECT_EQ(misplaced.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(misplaced.status().ToString().find("key " + key + " is in the section of key group"),
            std::string::npos)
      << misplaced.status().ToString();
}

// ReadKeyedSnapshot reads while decoding (VisitKeyedBlob); it must answer exactly as reading
// DecodeKeyedBlob's entries one by one (the former way, restated here) does.
struct ExpectedKey {
  engine::Provenance provenance;
  std::map<StateEntryName, Bytes> entries;
};

std::map<std::string, ExpectedKey> ReadFromDecodedEntries(const Bytes& blob) {
  std::map<std::string, ExpectedKey> keys;
  const DecodedBlob decoded = DecodeKeyedBlob(blob, "b").value();
  for (const BlobEntry& e : decoded.entries) {
    ExpectedKey& snapshot = keys[e.key];
    if (e.state != kProvenanceStateName) {
      snapshot.entries[{e.state, e.user_key}] = e.value;
      continue;
    }
    uint64_t count = 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < 8; ++i) count |= uint64_t{e.value[i]} << (8 * i);
    for (size_t i = 0; i < 8; ++i) sum |= uint64_t{e.value[8 + i]} << (8 * i);
    snapshot.provenance = engine::Provenance{count, sum};
  }
  return keys;
}

// One subtask owning every key group, with a value state "count", a map state "seen" and the
// provenance state, filled for keys key-0 .. key-(keys - 1): key k has a count, k % 3 map
// entries and (every key, or all but every fourth) a provenance.
struct SampleState {
  GroupRange owned = GroupsOfSubtask(0, 1, 128);
  std::unique_ptr<engine::KeyedStateBackend> backend;
  engine::StateId count = 0;
  engine::StateId seen = 0;
  engine::StateId provenance = 0;
};

SampleState SampleBackend(int keys, bool provenance_for_every_key) {
  SampleState out;
  out.backend =
      engine::NewHeapStateBackend(engine::KeyGroupRange::Of(out.owned.first, out.owned.last));
  engine::KeyedStateBackend& b = *out.backend;
  out.count = b.Register("count", engine::StateKind::kValue).value();
  out.seen = b.Register("seen", engine::StateKind::kMap).value();
  out.provenance = b.Register(std::string(kProvenanceStateName), engine::StateKind::kValue).value();
  for (int k = 0; k < keys; ++k) {
    const std::string key = "key-" + std::to_string(k);
    const uint32_t group = GroupOfKey(key, 128);
    b.Put(out.count, group, key, "", B("1234567" + std::to_string(k % 10)));
    for (int u = 0; u < k % 3; ++u) {
      b.Put(out.seen, group, key, "u" + std::to_string(u), B("abcdefg" + std::to_string(u)));
    }
    if (provenance_for_every_key || k % 4 != 0) {
      b.Put(out.provenance, group, key, "", B("0123456789abcde" + key.substr(4, 1)));
    }
  }
  return out;
}

TEST(CheckerKeyedSnapshot, ReadsAsTheDecodedEntriesSayAndKeepsTheOrderOfItsErrors) {
  SampleState sample = SampleBackend(300, /*provenance_for_every_key=*/false);
  auto& [owned, backend, count, seen, provenance] = sample;
  const Bytes good = backend->Capture()->Materialize().value();
  const auto read = ReadKeyedSnapshot(good, "b", owned, 128);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const std::map<std::string, ExpectedKey> want = ReadFromDecodedEntries(good);
  ASSERT_EQ(read->size(), want.size());
  for (const auto& [key, snapshot] : want) {
    const auto it = read->find(key);
    ASSERT_NE(it, read->end()) << key;
    EXPECT_EQ(it->second.provenance, snapshot.provenance) << key;
    const StateEntries& got = it->second.entries;
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end())) << key;
    const std::map<StateEntryName, Bytes> got_map(got.begin(), got.end());
    EXPECT_EQ(got_map, snapshot.entries) << key;
    EXPECT_EQ(got.size(), snapshot.entries.size()) << key;
  }

  // A malformed provenance (DataLoss) and a misplaced key (FailedPrecondition) in one blob: the
  // first in the blob's order (sections by key group) is the answer, whichever comes first;
  // storage damage anywhere outranks both.
  const std::string key = "key-150";
  const uint32_t group = GroupOfKey(key, 128);
  ASSERT_GT(group, owned.first + 1);
  ASSERT_LT(group, owned.last - 1);
  backend->Put(provenance, group, key, "", B("short"));
  Bytes both;
  for (const bool misplaced_first : {true, false}) {
    const uint32_t wrong = misplaced_first ? owned.first : owned.last;
    std::string other;
    for (int k = 0; other.empty(); ++k) {
      const std::string candidate = "other-" + std::to_string(k);
      if (GroupOfKey(candidate, 128) != wrong) other = candidate;
    }
    backend->Put(count, wrong, other, "", B("12345678"));
    both = backend->Capture()->Materialize().value();
    EXPECT_EQ(ReadKeyedSnapshot(both, "b", owned, 128).status().code(),
              misplaced_first ? StatusCode::kFailedPrecondition : StatusCode::kDataLoss);
    backend->Delete(count, wrong, other, "");
  }
  Bytes damaged = both;
  damaged[damaged.size() - 1] ^= 1;  // the trailer checksum
  EXPECT_EQ(ReadKeyedSnapshot(damaged, "b", owned, 128).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ReadKeyedSnapshot(both, "b", GroupsOfSubtask(0, 2, 128), 128).status().code(),
            StatusCode::kFailedPrecondition);
}

// DigestOfBlob is EO-CUT's fast path: the digest of what ReadKeyedSnapshot reads, and nullopt
// whenever ReadKeyedSnapshot would report anything.
KeyDigest DigestOfRead(const std::string& key, const KeySnapshot& snapshot) {
  KeyDigest digest;
  for (const auto& [name, value] : snapshot.entries) {
    digest.Add(GroupOfKey(key, 128), key, name.first, name.second, value);
  }
  Bytes provenance;
  for (uint64_t v : {snapshot.provenance.count, snapshot.provenance.hash_sum}) {
    for (int i = 0; i < 8; ++i) provenance.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  digest.Add(GroupOfKey(key, 128), key, kProvenanceStateName, "", provenance);
  return digest;
}

KeyDigest DigestOfRead(const std::map<std::string, KeySnapshot>& read) {
  KeyDigest sum;
  for (const auto& [key, snapshot] : read) sum += DigestOfRead(key, snapshot);
  return sum;
}

TEST(CheckerKeyedSnapshot, DigestsAgreeWithTheReadEntriesAndRefuseWhatTheReadingRefuses) {
  SampleState sample = SampleBackend(200, /*provenance_for_every_key=*/true);
  auto& [owned, backend, count, seen, provenance] = sample;
  const Bytes good = backend->Capture()->Materialize().value();
  const auto read = ReadKeyedSnapshot(good, "b", owned, 128);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const std::optional<KeyDigest> digest = DigestOfBlob(good, "b", owned);
  ASSERT_TRUE(digest.has_value());
  EXPECT_EQ(*digest, DigestOfRead(*read));
  // One value differs: the digest differs.
  backend->Put(count, GroupOfKey("key-7", 128), "key-7", "", B("87654321"));
  const Bytes changed_blob = backend->Capture()->Materialize().value();
  const std::optional<KeyDigest> changed = DigestOfBlob(changed_blob, "b", owned);
  ASSERT_TRUE(changed.has_value());
  EXPECT_NE(*changed, *digest);
  EXPECT_EQ(*changed, DigestOfRead(ReadKeyedSnapshot(changed_blob, "b", owned, 128).value()));
  // Two keys' entries swapped: the same entries under other keys make another digest.
  std::map<std::string, KeySnapshot> swapped = *read;
  auto first = swapped.begin();
  auto second = std::find_if(std::next(first), swapped.end(), [&](const auto& k) {
    return k.second.entries != first->second.entries;
  });
  ASSERT_NE(second, swapped.end());
  std::swap(first->second.entries, second->second.entries);
  EXPECT_NE(DigestOfRead(swapped), DigestOfRead(*read));

  // Whatever ReadKeyedSnapshot reports, the digest refuses or differs.
  EXPECT_FALSE(DigestOfBlob(good, "b", GroupsOfSubtask(0, 2, 128)).has_value());
  Bytes damaged = good;
  damaged[damaged.size() - 1] ^= 1;
  EXPECT_FALSE(DigestOfBlob(damaged, "b", owned).has_value());
  backend->Put(provenance, GroupOfKey("key-9", 128), "key-9", "", B("short"));
  const Bytes short_provenance = backend->Capture()->Materialize().value();
  ASSERT_FALSE(ReadKeyedSnapshot(short_provenance, "b", owned, 128).ok());
  EXPECT_FALSE(DigestOfBlob(short_provenance, "b", owned).has_value());
  backend->Put(provenance, GroupOfKey("key-9", 128), "key-9", "", B("0123456789abcdef"));
  const std::optional<KeyDigest> before =
      DigestOfBlob(backend->Capture()->Materialize().value(), "b", owned);
  ASSERT_TRUE(before.has_value());
  const uint32_t group = GroupOfKey("key-3", 128);
  const uint32_t wrong = group == owned.last ? group - 1 : group + 1;
  backend->Put(count, wrong, "key-3", "", B("12345678"));
  const Bytes misplaced = backend->Capture()->Materialize().value();
  ASSERT_FALSE(ReadKeyedSnapshot(misplaced, "b", owned, 128).ok());
  // A misplaced entry hashes with its section's group: never the reference's, which hashes the
  // key's own.
  const std::optional<KeyDigest> with_misplaced = DigestOfBlob(misplaced, "b", owned);
  ASSERT_TRUE(with_misplaced.has_value());
  KeyDigest in_section = *before;
  in_section.Add(wrong, "key-3", "count", "", B("12345678"));
  EXPECT_EQ(*with_misplaced, in_section);
  KeyDigest in_own_group = *before;
  in_own_group.Add(group, "key-3", "count", "", B("12345678"));
  EXPECT_NE(*with_misplaced, in_own_group);
}

TEST(CheckerKeyedSnapshot, AStatesDigestIsTheDigestOfItsEntries) {
  KeyState state;
  state.values["sum"] = -5;
  state.reducing["count"] = 7;
  state.lists["recent"] = {1, -2, 3};
  state.maps["seen"] = {{"a", 1}, {"b", 2}};
  state.provenance = engine::Provenance{3, 0xfeedULL};
  KeySnapshot snapshot;
  snapshot.entries = EntriesOf(state);
  snapshot.provenance = state.provenance;
  ASSERT_TRUE(DigestOf(GroupOfKey("k", 128), "k", state).has_value());
  EXPECT_EQ(*DigestOf(GroupOfKey("k", 128), "k", state), DigestOfRead("k", snapshot));
  EXPECT_NE(*DigestOf(GroupOfKey("k", 128), "other key", state),
            *DigestOf(GroupOfKey("k", 128), "k", state));
  EXPECT_NE(*DigestOf(GroupOfKey("k", 128) + 1, "k", state),
            *DigestOf(GroupOfKey("k", 128), "k", state));
  KeyState other = state;
  other.maps["seen"]["b"] = 3;
  EXPECT_NE(*DigestOf(7, "k", other), *DigestOf(7, "k", state));
  other = state;
  other.provenance.hash_sum ^= 1;
  EXPECT_NE(*DigestOf(7, "k", other), *DigestOf(7, "k", state));
  other = state;
  other.values.erase("sum");
  other.reducing["sum"] = -5;  // the same entry from another kind: the same digest
  EXPECT_EQ(*DigestOf(7, "k", other), *DigestOf(7, "k", state));
  other.lists["count"] = {7};  // a name in two kinds: EntriesOf keeps one, no digest
  EXPECT_FALSE(DigestOf(7, "k", other).has_value());
}

}  // namespace
}  // namespace faultline::checkers
