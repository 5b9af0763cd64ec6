// The RocksDB keyed state backend (engine/state/rocksdb/) against the heap backend, on a node's
// simulated disk: the same operations give the same reads, the same entries, the same digest
// and the same snapshot blob, byte for byte; each restores the other's blobs (also a subset of
// key groups, as after a rescale); a failed restore changes nothing; a full disk surfaces as a
// Status, not a crash; and the same operations make the same disk trace.
#include "engine/state/rocksdb/rocksdb_state_backend.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "checkers/incremental_state.h"
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

// ---- Incremental checkpoints ----------------------------------------------------------------

std::unique_ptr<KeyedStateBackend> OpenIncremental(Disk& disk, KeyGroupRange range,
                                                   std::string directory,
                                                   size_t compaction_l0_files = 3) {
  Result<std::unique_ptr<KeyedStateBackend>> backend =
      engine::NewRocksDbStateBackend(range, {.fs = disk.fs(),
                                             .directory = std::move(directory),
                                             .memtable_bytes_max = 1 << 20,
                                             .incremental = true,
                                             .compaction_l0_files = compaction_l0_files});
  EXPECT_TRUE(backend.ok()) << backend.status().ToString();
  return backend.ok() ? std::move(*backend) : nullptr;
}

// Checkpoint storage as a map; what one incremental checkpoint uploaded and referenced.
struct Storage {
  std::map<std::string, Bytes> blobs;
};
struct Checkpoint {
  Bytes handle;
  std::vector<std::string> shared;  // every shared blob it references
  uint64_t new_bytes = 0;           // of the shared files it uploaded
  size_t reused = 0;
  uint64_t digest = 0;
};

Checkpoint TakeIncremental(KeyedStateBackend& backend, uint64_t id, Storage& storage) {
  std::unique_ptr<engine::StateSnapshot> snapshot = backend.Capture();
  EXPECT_TRUE(snapshot->incremental());
  Checkpoint out;
  out.digest = snapshot->digest();
  Result<engine::IncrementalUpload> upload =
      snapshot->MaterializeIncremental(id, "shared/chk-" + std::to_string(id) + "-");
  EXPECT_TRUE(upload.ok()) << upload.status().ToString();
  if (!upload.ok()) return out;
  out.handle = std::move(upload->handle);
  for (engine::SharedFile& file : upload->shared) {
    out.shared.push_back(file.blob);
    if (file.reused) {
      ++out.reused;
      EXPECT_TRUE(storage.blobs.contains(file.blob)) << file.blob << " reused, never uploaded";
      EXPECT_TRUE(file.bytes.empty());
      continue;
    }
    EXPECT_FALSE(storage.blobs.contains(file.blob)) << file.blob << " uploaded twice";
    EXPECT_EQ(file.size_bytes, file.bytes.size());
    out.new_bytes += file.bytes.size();
    storage.blobs[file.blob] = std::move(file.bytes);
  }
  return out;
}

TEST(RocksDbIncremental, UploadsOnlyNewFilesReusesConfirmedOnesAndRestoresAnywhere) {
  Disk disk;
  const KeyGroupRange range = KeyGroupRange::Of(0, 63);
  auto rocks = OpenIncremental(disk, range, "/rocksdb/inc", /*compaction_l0_files=*/4);
  auto heap = engine::NewHeapStateBackend(range);
  ASSERT_NE(rocks, nullptr);
  Twins twins(*rocks, *heap, range, 11);
  Storage storage;
  std::set<std::string> confirmed_files;
  size_t reuses = 0;
  size_t compactions = 0;
  for (uint64_t id = 1; id <= 12; ++id) {
    for (int i = 0; i < 1500; ++i) twins.Step();
    const Bytes heap_blob = heap->Capture()->Materialize().value();
    const Checkpoint cp = TakeIncremental(*rocks, id, storage);
    EXPECT_EQ(cp.digest, heap->Digest()) << "checkpoint " << id;
    // Reused files are exactly those of the latest confirmed checkpoint still live.
    size_t expected_reuse = 0;
    for (const std::string& blob : cp.shared) expected_reuse += confirmed_files.count(blob);
    EXPECT_EQ(cp.reused, expected_reuse) << "checkpoint " << id;
    reuses += cp.reused;
    if (cp.reused < confirmed_files.size()) ++compactions;  // a confirmed file was replaced
    // Checkpoint 4 never completes: 5 may not reuse what only 4 uploaded.
    if (id != 4) {
      rocks->NotifyCheckpointComplete(id);
      confirmed_files = {cp.shared.begin(), cp.shared.end()};
    }
    // A new backend restores it whole, and by halves (a rescale), equal to the heap's state.
    const std::map<std::string, Bytes>* shared = &storage.blobs;
    auto whole = OpenIncremental(disk, range, "/rocksdb/whole-" + std::to_string(id));
    Status restored = whole->Restore({{"inc", &cp.handle, true, shared}});
    ASSERT_TRUE(restored.ok()) << restored.ToString();
    ExpectSameState(*whole, *heap);
    EXPECT_EQ(whole->Digest(), cp.digest);
    for (const KeyGroupRange half : {KeyGroupRange::Of(0, 31), KeyGroupRange::Of(32, 63)}) {
      auto part = OpenRocksDb(disk, half, 32 << 10, "/rocksdb/half-" + std::to_string(id));
      auto heap_part = engine::NewHeapStateBackend(half);
      ASSERT_TRUE(part->Restore({{"inc", &cp.handle, true, shared}}).ok());
      ASSERT_TRUE(heap_part->Restore({{"heap", &heap_blob}}).ok());
      ExpectSameState(*part, *heap_part);
    }
    // The checkers' own reading of the handle gives the heap's blob, byte for byte.
    Result<Bytes> read = checkers::KeyedBlobOfIncremental(
        cp.handle, "inc", [&storage](const std::string& blob, uint64_t, uint64_t) {
          auto it = storage.blobs.find(blob);
          return it == storage.blobs.end() ? nullptr : &it->second;
        });
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(*read, heap_blob) << "checkpoint " << id;
  }
  EXPECT_GT(reuses, 5u);       // files were reused ...
  EXPECT_GT(compactions, 0u);  // ... and compactions replaced some between checkpoints
  // The scratch directories of the restores are gone.
  Result<std::vector<std::string>> left = disk.fs()->List("/rocksdb/whole-1-restore");
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

TEST(RocksDbIncremental, ARestoreAtTheSameRangeAdoptsTheFilesAndTheNextCheckpointReusesThem) {
  Disk disk;
  const KeyGroupRange range = KeyGroupRange::Of(0, 31);
  auto rocks = OpenIncremental(disk, range, "/rocksdb/first", /*compaction_l0_files=*/0);
  auto heap = engine::NewHeapStateBackend(range);
  Twins twins(*rocks, *heap, range, 21);
  Storage storage;
  Checkpoint cp;
  for (uint64_t id = 1; id <= 3; ++id) {
    for (int i = 0; i < 2000; ++i) twins.Step();
    cp = TakeIncremental(*rocks, id, storage);
    rocks->NotifyCheckpointComplete(id);
  }
  ASSERT_EQ(cp.shared.size(), 3u);  // one file per checkpoint, no compaction
  // A new attempt at the same key groups: the checkpoint's files become its database.
  auto second = OpenIncremental(disk, range, "/rocksdb/second", 0);
  const Status restored = second->Restore({{"inc", &cp.handle, true, &storage.blobs}});
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  ExpectSameState(*second, *heap);
  // It goes on from there, and its next checkpoint reuses the restored files.
  Twins more(*second, *heap, range, 22);
  for (int i = 0; i < 2000; ++i) more.Step();
  ExpectSameState(*second, *heap);
  const Checkpoint next = TakeIncremental(*second, 4, storage);
  EXPECT_EQ(next.reused, 3u);
  EXPECT_EQ(next.shared.size(), 4u);
  EXPECT_EQ(next.digest, heap->Digest());
  // A full disk while adopting: an error, and the database is empty and usable as before.
  Disk small(/*capacity=*/8 << 10);
  auto cramped = OpenIncremental(small, range, "/rocksdb/cramped", 0);
  ASSERT_NE(cramped, nullptr);
  const Status full = cramped->Restore({{"inc", &cp.handle, true, &storage.blobs}});
  EXPECT_FALSE(full.ok());
  EXPECT_EQ(cramped->entry_count(), 0u);
}

TEST(RocksDbIncremental, AMissingOrDamagedSharedFileFailsTheRestoreAndChangesNothing) {
  Disk disk;
  const KeyGroupRange range = KeyGroupRange::Of(0, 15);
  auto rocks = OpenIncremental(disk, range, "/rocksdb/src");
  auto heap = engine::NewHeapStateBackend(range);
  Twins twins(*rocks, *heap, range, 12);
  for (int i = 0; i < 3000; ++i) twins.Step();
  Storage storage;
  const Checkpoint cp = TakeIncremental(*rocks, 1, storage);
  ASSERT_FALSE(cp.shared.empty());
  auto target = OpenIncremental(disk, range, "/rocksdb/target");
  Storage damaged = storage;
  damaged.blobs.begin()->second[10] ^= 0x40;
  Status s = target->Restore({{"inc", &cp.handle, true, &damaged.blobs}});
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.ToString().find(damaged.blobs.begin()->first), std::string::npos) << s.ToString();
  damaged.blobs.erase(damaged.blobs.begin());
  s = target->Restore({{"inc", &cp.handle, true, &damaged.blobs}});
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_EQ(target->entry_count(), 0u);
  // Only the RocksDB backend reads an incremental handle.
  auto heap2 = engine::NewHeapStateBackend(range);
  s = heap2->Restore({{"inc", &cp.handle, true, &storage.blobs}});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
}

// The acceptance figure of incremental checkpoints: 1 M keys, 5 % of them changed per interval.
// Each checkpoint between compactions uploads its new SST files (and nothing of the unchanged
// state) plus the small MANIFEST/CURRENT/OPTIONS in its handle: at most 1.3x the new SST bytes
// and at most 20 % of a full checkpoint's bytes (every live SST file).
TEST(RocksDbIncremental, OneMillionKeysFivePercentChangedUploadsLittle) {
  Disk disk(uint64_t{8} << 30);
  const KeyGroupRange range = KeyGroupRange::Of(0, 127);
  Result<std::unique_ptr<KeyedStateBackend>> made =
      engine::NewRocksDbStateBackend(range, {.fs = disk.fs(),
                                             .directory = "/rocksdb/big",
                                             .incremental = true,
                                             .compaction_l0_files = 0});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  KeyedStateBackend& rocks = **made;
  const StateId count = rocks.Register("count", StateKind::kValue).value();
  constexpr uint32_t kKeys = 1'000'000;
  std::mt19937 rng(13);
  Bytes value(16);
  const auto put = [&](uint32_t k) {
    for (uint8_t& v : value) v = static_cast<uint8_t>(rng());
    rocks.PutCopy(count, k % 128, "key-" + std::to_string(k), "", value);
  };
  for (uint32_t k = 0; k < kKeys; ++k) put(k);
  Storage storage;
  Checkpoint first = TakeIncremental(rocks, 1, storage);
  rocks.NotifyCheckpointComplete(1);
  uint64_t live_bytes = first.new_bytes;  // every SST file: the full checkpoint's bytes
  for (uint64_t id = 2; id <= 4; ++id) {
    for (uint32_t i = 0; i < kKeys / 20; ++i) put(static_cast<uint32_t>(rng() % kKeys));
    const Checkpoint cp = TakeIncremental(rocks, id, storage);
    rocks.NotifyCheckpointComplete(id);
    live_bytes += cp.new_bytes;  // no compaction: files only add up
    const uint64_t uploaded = cp.new_bytes + cp.handle.size();
    EXPECT_LE(static_cast<double>(uploaded), 1.3 * static_cast<double>(cp.new_bytes))
        << "checkpoint " << id;
    EXPECT_LE(static_cast<double>(uploaded), 0.2 * static_cast<double>(live_bytes))
        << "checkpoint " << id << ": " << uploaded << " of " << live_bytes;
    EXPECT_GT(cp.reused, 0u);
    std::printf("checkpoint %llu: uploaded %llu bytes (new SST %llu), full %llu: %.1f %%\n",
                static_cast<unsigned long long>(id), static_cast<unsigned long long>(uploaded),
                static_cast<unsigned long long>(cp.new_bytes),
                static_cast<unsigned long long>(live_bytes),
                100.0 * static_cast<double>(uploaded) / static_cast<double>(live_bytes));
  }
}

}  // namespace
}  // namespace faultline
