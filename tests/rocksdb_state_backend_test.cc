// The RocksDB keyed state backend (engine/state/rocksdb/) against the heap backend, on a node's
// simulated disk: the same operations give the same reads, the same entries, the same digest
// and the same snapshot blob, byte for byte; each restores the other's blobs (also a subset of
// key groups, as after a rescale); a failed restore changes nothing; a full disk surfaces as a
// Status, not a crash; and the same operations make the same disk trace.
#include "engine/state/rocksdb/rocksdb_state_backend.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "engine/state/keyed_state_blob.h"
#include "engine/state/state_backend.h"
#include "simulator/world.h"

namespace faultline {
namespace {

using engine::Bytes;
using engine::KeyedStateBackend;
using engine::KeyGroup;
using engine::KeyGroupRange;
using engine::StateId;
using engine::StateKind;

// A node of its own world, for its simulated disk.
struct Disk {
  explicit Disk(uint64_t capacity = uint64_t{1} << 32)
      : world(sim::WorldOptions{.seed = 7, .disk_capacity_bytes = capacity}) {
    node = world.AddNode("tm", nullptr);
    world.Start(node);
  }
  runtime::LocalFs* fs() { return &world.disk(node); }
  sim::World world;
  uint32_t node = 0;
};

std::unique_ptr<KeyedStateBackend> OpenRocksDb(Disk& disk, KeyGroupRange range,
                                               size_t memtable_bytes_max = 32 << 10,
                                               std::string directory = "/rocksdb/task-0") {
  Result<std::unique_ptr<KeyedStateBackend>> backend =
      engine::NewRocksDbStateBackend(range, {.fs = disk.fs(),
                                             .directory = std::move(directory),
                                             .memtable_bytes_max = memtable_bytes_max});
  EXPECT_TRUE(backend.ok()) << backend.status().ToString();
  return backend.ok() ? std::move(*backend) : nullptr;
}

using Entry = std::tuple<std::string, KeyGroup, std::string, std::string, Bytes>;
std::vector<Entry> EntriesOf(const KeyedStateBackend& b) {
  std::vector<Entry> out;
  b.ForEachEntry([&out](std::string_view state, KeyGroup group, std::string_view key,
                        std::string_view user_key, std::span<const uint8_t> value) {
    out.emplace_back(std::string(state), group, std::string(key), std::string(user_key),
                     Bytes(value.begin(), value.end()));
  });
  return out;
}

// Random operations applied to both backends alike.
class Twins {
 public:
  Twins(KeyedStateBackend& a, KeyedStateBackend& b, KeyGroupRange range, uint32_t seed)
      : a_(a), b_(b), range_(range), rng_(seed) {
    for (auto [name, kind] :
         {std::pair{"count", StateKind::kValue}, std::pair{"seen", StateKind::kMap},
          std::pair{"recent", StateKind::kList}}) {
      const StateId ia = a_.Register(name, kind).value();
      const StateId ib = b_.Register(name, kind).value();
      EXPECT_EQ(ia, ib);
      states_.push_back(ia);
    }
  }

  std::string Key() {
    // Short keys over a small alphabet (collisions and prefixes), with zero and high bytes.
    static constexpr char kAlphabet[] = {'a', 'b', '\0', '\x80', '\xff', 'k'};
    std::string key(1 + R() % 4, 'a');
    for (char& c : key) c = kAlphabet[R() % sizeof kAlphabet];
    return key;
  }
  KeyGroup Group() { return range_.first + R() % range_.size(); }
  uint32_t R() { return static_cast<uint32_t>(rng_()); }

  void Step() {
    const StateId state = states_[R() % states_.size()];
    const KeyGroup group = Group();
    const std::string key = Key();
    const std::string user_key = state == states_[1] ? Key() : "";
    const uint32_t op = R() % 10;
    if (op < 6) {
      Bytes value(R() % 24);
      for (uint8_t& v : value) v = static_cast<uint8_t>(R());
      if (op % 2 == 0) {
        a_.Put(state, group, key, user_key, value);
        b_.Put(state, group, key, user_key, value);
      } else {
        a_.PutCopy(state, group, key, user_key, value);
        b_.PutCopy(state, group, key, user_key, value);
      }
    } else if (op < 8) {
      a_.Delete(state, group, key, user_key);
      b_.Delete(state, group, key, user_key);
    } else {
      EXPECT_EQ(a_.Get(state, group, key, user_key), b_.Get(state, group, key, user_key));
      Bytes va;
      Bytes vb;
      EXPECT_EQ(a_.GetInto(state, group, key, user_key, va),
                b_.GetInto(state, group, key, user_key, vb));
      EXPECT_EQ(va, vb);
      std::vector<std::pair<std::string, Bytes>> ea;
      std::vector<std::pair<std::string, Bytes>> eb;
      a_.ForEach(states_[1], group, key, [&ea](std::string_view u, std::span<const uint8_t> v) {
        ea.emplace_back(std::string(u), Bytes(v.begin(), v.end()));
      });
      b_.ForEach(states_[1], group, key, [&eb](std::string_view u, std::span<const uint8_t> v) {
        eb.emplace_back(std::string(u), Bytes(v.begin(), v.end()));
      });
      EXPECT_EQ(ea, eb);
    }
  }

 private:
  KeyedStateBackend& a_;
  KeyedStateBackend& b_;
  KeyGroupRange range_;
  std::mt19937 rng_;
  std::vector<StateId> states_;
};

void ExpectSameState(const KeyedStateBackend& rocks, const KeyedStateBackend& heap) {
  EXPECT_EQ(EntriesOf(rocks), EntriesOf(heap));
  EXPECT_EQ(rocks.Digest(), heap.Digest());
  EXPECT_EQ(rocks.entry_count(), heap.entry_count());
}

TEST(RocksDbStateBackend, BehavesAsTheHeapBackendAndWritesTheSameBlob) {
  Disk disk;
  const KeyGroupRange range = KeyGroupRange::Of(10, 41);
  auto rocks = OpenRocksDb(disk, range);
  auto heap = engine::NewHeapStateBackend(range);
  ASSERT_NE(rocks, nullptr);
  Twins twins(*rocks, *heap, range, 1);
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 3000; ++i) twins.Step();
    ExpectSameState(*rocks, *heap);
    // A capture is a view at its moment: what comes after it does not reach its blob.
    std::unique_ptr<engine::StateSnapshot> rocks_view = rocks->Capture();
    std::unique_ptr<engine::StateSnapshot> heap_view = heap->Capture();
    for (int i = 0; i < 500; ++i) twins.Step();
    Result<Bytes> rocks_blob = rocks_view->Materialize();
    Result<Bytes> heap_blob = heap_view->Materialize();
    ASSERT_TRUE(rocks_blob.ok()) << rocks_blob.status().ToString();
    ASSERT_TRUE(heap_blob.ok());
    EXPECT_EQ(*rocks_blob, *heap_blob) << "round " << round;
    EXPECT_EQ(rocks_view->digest(), heap_view->digest());
    EXPECT_EQ(rocks_view->entries(), heap_view->entries());
    // As the engine uses a capture: its digest first, then the blob, once.
    std::unique_ptr<engine::StateSnapshot> rocks_at = rocks->Capture();
    std::unique_ptr<engine::StateSnapshot> heap_at = heap->Capture();
    EXPECT_EQ(rocks_at->digest(), heap_at->digest());
    EXPECT_EQ(rocks_at->entries(), heap_at->entries());
    twins.Step();
    Result<Bytes> rocks_once = rocks_at->MaterializeOnce();
    ASSERT_TRUE(rocks_once.ok()) << rocks_once.status().ToString();
    EXPECT_EQ(*rocks_once, heap_at->MaterializeOnce().value());
    EXPECT_EQ(rocks_at->MaterializedChecksum(), heap_at->MaterializedChecksum());
  }
  // The memtable bound (32 KiB here) made RocksDB write SST files to the simulated disk.
  Result<std::vector<std::string>> files = disk.fs()->List("/rocksdb/task-0/");
  ASSERT_TRUE(files.ok());
  EXPECT_TRUE(std::any_of(files->begin(), files->end(),
                          [](const std::string& f) { return f.ends_with(".sst"); }));
}

TEST(RocksDbStateBackend, EachBackendRestoresTheOthersBlobsAlsoASubsetOfKeyGroups) {
  Disk disk;
  const KeyGroupRange range = KeyGroupRange::Of(0, 63);
  auto rocks = OpenRocksDb(disk, range, 32 << 10, "/rocksdb/a");
  auto heap = engine::NewHeapStateBackend(range);
  Twins twins(*rocks, *heap, range, 2);
  for (int i = 0; i < 4000; ++i) twins.Step();
  const Bytes heap_blob = heap->Capture()->Materialize().value();
  const Bytes rocks_blob = rocks->Capture()->Materialize().value();

  // The heap's checkpoint into a new RocksDB backend, and RocksDB's into a new heap backend.
  auto rocks2 = OpenRocksDb(disk, range, 32 << 10, "/rocksdb/b");
  ASSERT_TRUE(rocks2->Restore({{"heap-blob", &heap_blob}}).ok());
  ExpectSameState(*rocks2, *heap);
  auto heap2 = engine::NewHeapStateBackend(range);
  ASSERT_TRUE(heap2->Restore({{"rocks-blob", &rocks_blob}}).ok());
  ExpectSameState(*rocks, *heap2);

  // Rescaled: two halves of the range, each restored from both blobs (one per half of the
  // writers), hold exactly the entries of their key groups.
  const KeyGroupRange low = KeyGroupRange::Of(0, 31);
  const KeyGroupRange high = KeyGroupRange::Of(32, 63);
  const Bytes low_blob = [&] {
    auto h = engine::NewHeapStateBackend(low);
    EXPECT_TRUE(h->Restore({{"heap-blob", &heap_blob}}).ok());
    return h->Capture()->Materialize().value();
  }();
  const Bytes high_blob = [&] {
    auto r = OpenRocksDb(disk, high, 32 << 10, "/rocksdb/high");
    EXPECT_TRUE(r->Restore({{"rocks-blob", &rocks_blob}}).ok());
    return r->Capture()->Materialize().value();
  }();
  auto merged = OpenRocksDb(disk, range, 32 << 10, "/rocksdb/merged");
  ASSERT_TRUE(merged->Restore({{"low", &low_blob}, {"high", &high_blob}}).ok());
  ExpectSameState(*merged, *heap);
}

TEST(RocksDbStateBackend, AFailedRestoreLeavesTheStateAsItWas) {
  Disk disk;
  const KeyGroupRange range = KeyGroupRange::Of(0, 15);
  auto rocks = OpenRocksDb(disk, range);
  auto heap = engine::NewHeapStateBackend(range);
  Twins twins(*rocks, *heap, range, 3);
  for (int i = 0; i < 1000; ++i) twins.Step();
  Bytes damaged = heap->Capture()->Materialize().value();
  damaged[damaged.size() / 2] ^= 0x01;
  const Status restored = rocks->Restore({{"damaged", &damaged}});
  EXPECT_EQ(restored.code(), StatusCode::kDataLoss) << restored.ToString();
  EXPECT_NE(restored.ToString().find("damaged"), std::string::npos) << restored.ToString();
  ExpectSameState(*rocks, *heap);
  // Two blobs that both hold a key group: refused, nothing changes.
  const Bytes good = heap->Capture()->Materialize().value();
  EXPECT_EQ(rocks->Restore({{"one", &good}, {"two", &good}}).code(), StatusCode::kInvalidArgument);
  ExpectSameState(*rocks, *heap);
}

TEST(RocksDbStateBackend, AFullDiskIsAStatusFromTheNextSnapshot) {
  Disk disk(/*capacity=*/200 << 10);
  const KeyGroupRange range = KeyGroupRange::Of(0, 7);
  auto rocks = OpenRocksDb(disk, range, /*memtable_bytes_max=*/16 << 10);
  ASSERT_NE(rocks, nullptr);
  const StateId count = rocks->Register("count", StateKind::kValue).value();
  std::mt19937 rng(4);
  for (int i = 0; i < 20000; ++i) {
    Bytes value(100);
    for (uint8_t& v : value) v = static_cast<uint8_t>(rng());
    rocks->Put(count, static_cast<KeyGroup>(rng() % 8), "key-" + std::to_string(i), "", value);
  }
  Result<Bytes> blob = rocks->Capture()->Materialize();
  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.status().code(), StatusCode::kResourceExhausted) << blob.status().ToString();
  EXPECT_NE(blob.status().ToString().find("rocksdb"), std::string::npos);
  const Bytes empty = engine::NewHeapStateBackend(range)->Capture()->Materialize().value();
  EXPECT_FALSE(rocks->Restore({{"empty", &empty}}).ok());  // the error stays
}

TEST(RocksDbStateBackend, TheSameOperationsMakeTheSameDiskTrace) {
  const auto run = [] {
    Disk disk;
    const KeyGroupRange range = KeyGroupRange::Of(0, 31);
    auto rocks = OpenRocksDb(disk, range, 16 << 10);
    auto heap = engine::NewHeapStateBackend(range);
    Twins twins(*rocks, *heap, range, 5);
    for (int i = 0; i < 6000; ++i) twins.Step();
    EXPECT_TRUE(rocks->Capture()->Materialize().ok());
    rocks.reset();
    return std::pair{disk.world.trace().hash(), disk.world.trace().count()};
  };
  const auto first = run();
  const auto second = run();
  EXPECT_GT(first.second, 50u);  // RocksDB wrote, synced and renamed files on the disk
  EXPECT_EQ(first, second);
}

TEST(RocksDbStateBackend, RefusesARelativeDirectory) {
  Disk disk;
  Result<std::unique_ptr<KeyedStateBackend>> backend = engine::NewRocksDbStateBackend(
      KeyGroupRange::Of(0, 3), {.fs = disk.fs(), .directory = "relative"});
  EXPECT_EQ(backend.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace faultline
