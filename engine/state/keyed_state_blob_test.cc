// The keyed-state blob against its specification (docs/blob-format.md): a reader written from
// the spec alone (little-endian loads, nothing from keyed_state_blob.h) decodes what the heap
// backend writes, the spec's example is byte for byte what the writer produces, and the
// implementation's reader refuses what the spec says a reader must refuse.
#include "engine/state/keyed_state_blob.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "base/hash.h"
#include "engine/state/key_groups.h"
#include "engine/state/state_backend.h"

namespace faultline::engine {
namespace {

Bytes B(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

// ---- A reader from the spec alone ----------------------------------------------------------

struct SpecEntry {
  std::string state;  // by name
  uint32_t group;
  std::string key;
  std::string user_key;
  std::string value;
  auto operator<=>(const SpecEntry&) const = default;
};

struct SpecBlob {
  uint32_t first = 0;
  uint32_t last = 0;
  std::map<uint32_t, std::pair<std::string, uint8_t>> states;  // id -> name, kind
  std::vector<SpecEntry> entries;
};

class SpecReader {
 public:
  explicit SpecReader(const Bytes& blob) : blob_(blob) {}

  uint64_t Le(size_t at, size_t width) const {
    EXPECT_LE(at + width, blob_.size());
    uint64_t v = 0;
    for (size_t i = 0; i < width && at + i < blob_.size(); ++i) {
      v |= uint64_t{blob_[at + i]} << (8 * i);
    }
    return v;
  }
  std::string Text(size_t& at) const {
    const auto length = static_cast<size_t>(Le(at, 4));
    at += 4;
    std::string text(blob_.begin() + static_cast<ptrdiff_t>(at),
                     blob_.begin() + static_cast<ptrdiff_t>(at + length));
    at += length;
    return text;
  }

  SpecBlob Read() const {
    SpecBlob out;
    EXPECT_EQ(std::string(blob_.begin(), blob_.begin() + 8), "FLKSTATE");
    EXPECT_EQ(Le(8, 4), 1u);               // version
    EXPECT_EQ(Le(12, 8), blob_.size());    // size, trailer included
    const size_t body = blob_.size() - 8;  // the trailer: XXH3-64 (seed 0) of the body
    EXPECT_EQ(Le(body, 8), Hash64(std::as_bytes(std::span<const uint8_t>(blob_.data(), body))));
    out.first = static_cast<uint32_t>(Le(20, 4));
    out.last = static_cast<uint32_t>(Le(24, 4));
    const uint64_t states = Le(28, 4);
    size_t at = 32;
    for (uint64_t s = 0; s < states; ++s) {
      const auto id = static_cast<uint32_t>(Le(at, 4));
      const auto kind = static_cast<uint8_t>(Le(at + 4, 1));
      at += 5;
      out.states[id] = {Text(at), kind};
    }
    const size_t groups = out.first > out.last ? 0 : out.last - out.first + 1;
    const size_t table = at;
    EXPECT_EQ(Le(table, 8), table + 8 * (groups + 1));  // the first section follows the table
    EXPECT_EQ(Le(table + 8 * groups, 8), body);         // the sections end at the trailer
    for (size_t g = 0; g < groups; ++g) {
      ReadSection(out, Le(table + 8 * g, 8), Le(table + 8 * (g + 1), 8),
                  out.first + static_cast<uint32_t>(g));
    }
    return out;
  }

 private:
  void ReadSection(SpecBlob& out, size_t at, size_t end, uint32_t group) const {
    EXPECT_EQ(Le(at, 4), group);
    const uint64_t count = Le(at + 4, 8);
    at += 12;
    std::tuple<uint32_t, std::string, std::string> previous;
    for (uint64_t i = 0; i < count; ++i) {
      const auto id = static_cast<uint32_t>(Le(at, 4));
      at += 4;
      std::string key = Text(at);
      std::string user_key = Text(at);
      std::string value = Text(at);
      const std::tuple<uint32_t, std::string, std::string> current{id, key, user_key};
      if (i > 0) {
        EXPECT_LT(previous, current) << "entries strictly ascending";
      }
      previous = current;
      EXPECT_TRUE(out.states.count(id)) << "state id " << id << " in the registry";
      out.entries.push_back({out.states[id].first, group, key, user_key, value});
    }
    EXPECT_EQ(at, end) << "the section ends where the offset table says";
  }

  const Bytes& blob_;
};

// ---- Tests ---------------------------------------------------------------------------------

constexpr uint32_t kMaxParallelism = 128;

TEST(KeyedStateBlob, AReaderWrittenFromTheSpecDecodesABackendBlob) {
  // A subtask owning part of the key groups, with value, map and list states, an empty value,
  // long values (past the digest's 256-byte fast path) and keys differing only past a prefix.
  const KeyGroupRange range = KeyGroupRange::Of(10, 70);
  std::unique_ptr<KeyedStateBackend> backend = NewHeapStateBackend(range);
  const StateId count = backend->Register("count", StateKind::kValue).value();
  const StateId seen = backend->Register("seen", StateKind::kMap).value();
  const StateId log = backend->Register("log", StateKind::kList).value();
  std::vector<SpecEntry> written;
  for (int k = 0; k < 400; ++k) {
    const std::string key = "key-" + std::to_string(k);
    const KeyGroup group = KeyGroupForKey(key, kMaxParallelism);
    if (!range.Contains(group)) continue;
    const std::string value = k % 50 == 0 ? std::string(300, 'x') : std::to_string(k * 7);
    backend->Put(count, group, key, "", B(value));
    written.push_back({"count", group, key, "", value});
    for (int u = 0; u < k % 3; ++u) {
      const std::string user_key = "u" + std::to_string(u);
      backend->Put(seen, group, key, user_key, B(k % 2 ? "" : user_key));
      written.push_back({"seen", group, key, user_key, k % 2 ? "" : user_key});
    }
    if (k % 5 == 0) {
      backend->Put(log, group, key, "", B("abc"));
      written.push_back({"log", group, key, "", "abc"});
    }
  }
  ASSERT_GT(written.size(), 100u);
  std::unique_ptr<StateSnapshot> snapshot = backend->Capture();
  const Bytes blob = snapshot->Materialize().value();

  const SpecBlob decoded = SpecReader(blob).Read();
  EXPECT_EQ(decoded.first, range.first);
  EXPECT_EQ(decoded.last, range.last);
  ASSERT_EQ(decoded.states.size(), 3u);
  EXPECT_EQ(decoded.states.at(0), std::make_pair(std::string("count"), uint8_t{1}));
  EXPECT_EQ(decoded.states.at(1), std::make_pair(std::string("seen"), uint8_t{3}));
  EXPECT_EQ(decoded.states.at(2), std::make_pair(std::string("log"), uint8_t{2}));
  std::vector<SpecEntry> expected = written;
  std::vector<SpecEntry> actual = decoded.entries;
  std::sort(expected.begin(), expected.end());
  std::sort(actual.begin(), actual.end());
  EXPECT_EQ(actual, expected);

  // The digest formula of the spec, from the decoded entries, is the captured digest.
  uint64_t digest = 0;
  for (const SpecEntry& e : decoded.entries) {
    digest += Hasher()
                  .Text(e.state)
                  .U64(e.group)
                  .Text(e.key)
                  .Text(e.user_key)
                  .Bytes(std::as_bytes(std::span<const char>(e.value.data(), e.value.size())))
                  .Finish();
  }
  EXPECT_EQ(digest, snapshot->digest());
  EXPECT_EQ(digest, backend->Digest());
}

TEST(KeyedStateBlob, TheSpecExampleIsWhatTheWriterWrites) {
  std::unique_ptr<KeyedStateBackend> backend = NewHeapStateBackend(KeyGroupRange::Of(3, 4));
  ASSERT_TRUE(backend->Register("count", StateKind::kValue).ok());
  const Bytes blob = backend->Capture()->Materialize().value();
  const Bytes expected_body = {
      0x46, 0x4C, 0x4B, 0x53, 0x54, 0x41, 0x54, 0x45,        // magic
      0x01, 0x00, 0x00, 0x00,                                // version
      0x66, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,        // size 102
      0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,        // key groups 3..4
      0x01, 0x00, 0x00, 0x00,                                // 1 state
      0x00, 0x00, 0x00, 0x00, 0x01,                          // id 0, value
      0x05, 0x00, 0x00, 0x00, 0x63, 0x6F, 0x75, 0x6E, 0x74,  // "count"
      0x46, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,        // section 3 at 70
      0x52, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,        // section 4 at 82
      0x5E, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,        // end at 94
      0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  ASSERT_EQ(blob.size(), expected_body.size() + 8);
  EXPECT_EQ(Bytes(blob.begin(), blob.begin() + 94), expected_body);
  EXPECT_EQ(SpecReader(blob).Le(94, 8), Hash64(std::as_bytes(std::span(expected_body))));
}

TEST(KeyedStateBlob, WriterAndReaderRoundTripWithoutABackend) {
  const std::vector<KeyedStateInfo> states = {{"a", StateKind::kValue}, {"b", StateKind::kMap}};
  KeyedStateBlobWriter writer(KeyGroupRange::Of(5, 7), states, 0);
  writer.BeginSection(5);
  writer.Add(0, "k", "", B("1"));
  writer.BeginSection(6);
  writer.BeginSection(7);
  writer.Add(0, "k", "", B("2"));
  writer.Add(1, "k", "x", B("3"));
  uint64_t checksum = 0;
  const Bytes blob = std::move(writer).Finish(checksum);
  EXPECT_EQ(checksum, Checksum(std::as_bytes(std::span(blob))));

  Result<KeyedStateBlobReader> reader = KeyedStateBlobReader::Open(blob, "b1", true);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(reader->range().first, 5u);
  ASSERT_EQ(reader->states().size(), 2u);
  std::vector<std::string> seen;
  for (KeyGroup group = 5; group <= 7; ++group) {
    ASSERT_TRUE(reader
                    ->ReadSection(
                        group,
                        [&seen, group](size_t state, std::string_view key,
                                       std::string_view user_key, std::span<const uint8_t> value) {
                          seen.push_back(std::to_string(group) + "/" + std::to_string(state) + "/" +
                                         std::string(key) + "/" + std::string(user_key) + "=" +
                                         std::string(value.begin(), value.end()));
                        })
                    .ok());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"5/0/k/=1", "7/0/k/=2", "7/1/k/x=3"}));
}

// Rewrites the trailer after a change, so the check under test is the one that fails.
void Reseal(Bytes& blob) {
  const uint64_t sum =
      Hash64(std::as_bytes(std::span<const uint8_t>(blob.data(), blob.size() - 8)));
  for (size_t i = 0; i < 8; ++i) blob[blob.size() - 8 + i] = static_cast<uint8_t>(sum >> (8 * i));
}

std::string OpenError(const Bytes& blob) {
  Result<KeyedStateBlobReader> reader = KeyedStateBlobReader::Open(blob, "b", true);
  return reader.ok() ? "" : reader.status().ToString();
}

TEST(KeyedStateBlob, TheReaderRefusesWhatTheSpecSaysToRefuse) {
  std::unique_ptr<KeyedStateBackend> backend = NewHeapStateBackend(KeyGroupRange::Of(3, 4));
  ASSERT_TRUE(backend->Register("count", StateKind::kValue).ok());
  const Bytes good = backend->Capture()->Materialize().value();
  EXPECT_EQ(OpenError(good), "");

  Bytes truncated(good.begin(), good.end() - 1);
  EXPECT_NE(OpenError(truncated).find("size mismatch"), std::string::npos);
  Bytes magic = good;
  magic[0] = 'X';
  EXPECT_NE(OpenError(magic).find("bad magic"), std::string::npos);
  Bytes flipped = good;
  flipped[40] ^= 1;
  EXPECT_NE(OpenError(flipped).find("checksum mismatch"), std::string::npos);
  Bytes version = good;
  version[8] = 2;
  Reseal(version);
  EXPECT_NE(OpenError(version).find("format version 2 is not supported"), std::string::npos);
  Bytes kind = good;
  kind[36] = 9;
  Reseal(kind);
  EXPECT_NE(OpenError(kind).find("unknown kind"), std::string::npos);
  Bytes offsets = good;
  offsets[62] = 0x5D;  // the sections' end no longer at the trailer
  Reseal(offsets);
  EXPECT_NE(OpenError(offsets).find("sections do not end at the trailer"), std::string::npos);
  Bytes label = good;
  label[82] = 9;  // group 4's section labelled 9
  Reseal(label);
  Result<KeyedStateBlobReader> reader = KeyedStateBlobReader::Open(label, "b", true);
  ASSERT_TRUE(reader.ok());
  const Status section = reader->ReadSection(
      4, [](size_t, std::string_view, std::string_view, std::span<const uint8_t>) {});
  EXPECT_NE(section.ToString().find("key group 4: section is labelled key group 9"),
            std::string::npos);
}

}  // namespace
}  // namespace faultline::engine
