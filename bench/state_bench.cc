// Keyed state throughput: Get+Put pairs per second of wall time over one key distribution (N keys
// drawn uniformly, an 8-byte counter each, read and written back as a running count does),
// through
//   - BM_BareRocksDb: RocksDB's own Get and Put, nothing else: the database opened with the
//     backend's environment and options (engine/state/rocksdb/rocksdb_env.h) on a node's
//     simulated disk, keys as they are;
//   - BM_RocksDbBackend: the RocksDB keyed state backend as the keyed operator drives it
//     (SetCurrentKey, GetCurrent, PutCurrent), on the same kind of disk;
//   - BM_HeapBackend: the heap backend on the same path.
// The ratio of the backend to the bare loop is the backend's own cost (docs/performance.md).
//
//   build/release/bench/state_bench --benchmark_repetitions=5
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
//   (one command line)
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/state/rocksdb/local_fs_file_system.h"
#include "engine/state/rocksdb/rocksdb_env.h"
#include "engine/state/rocksdb/rocksdb_state_backend.h"
#include "engine/state/state_backend.h"
#include "simulator/world.h"

namespace faultline {
namespace {

constexpr int64_t kPairsPerIteration = 100'000;
constexpr uint32_t kMaxParallelism = 128;

struct Keys {
  explicit Keys(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      names.push_back("key-" + std::to_string(i));
      groups.push_back(engine::KeyGroupForKey(names.back(), kMaxParallelism));
    }
  }
  std::vector<std::string> names;
  std::vector<engine::KeyGroup> groups;
};

// The same uniform draw sequence for every loop.
struct Draws {
  uint64_t x = 88172645463325252ULL;
  uint32_t Next(uint32_t n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<uint32_t>(x % n);
  }
};

struct Node {
  Node() : world(sim::WorldOptions{.seed = 1}) {
    id = world.AddNode("tm", nullptr);
    world.Start(id);
  }
  runtime::LocalFs* fs() { return &world.disk(id); }
  sim::World world;
  uint32_t id = 0;
};

void BM_BareRocksDb(benchmark::State& state) {
  const Keys keys(static_cast<uint32_t>(state.range(0)));
  Node node;
  auto fs = std::make_shared<engine::LocalFsFileSystem>(node.fs());
  auto env = std::make_unique<engine::NodeEnv>(fs, nullptr);
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(engine::RocksDbDatabaseOptions(env.get(), 32u << 20), "/bare", &raw)
           .ok()) {
    state.SkipWithError("open failed");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const rocksdb::WriteOptions writes = engine::RocksDbWriteOptions();
  const rocksdb::ReadOptions reads;
  Draws draws;
  rocksdb::PinnableSlice value;
  for (auto _ : state) {
    for (int64_t i = 0; i < kPairsPerIteration; ++i) {
      const std::string& key = keys.names[draws.Next(static_cast<uint32_t>(keys.names.size()))];
      value.Reset();
      const rocksdb::Status got = db->Get(reads, db->DefaultColumnFamily(), key, &value);
      uint64_t next = 1;
      if (got.ok() && value.size() == 8) {
        std::memcpy(&next, value.data(), 8);
        ++next;
      }
      benchmark::DoNotOptimize(
          db->Put(writes, key, rocksdb::Slice(reinterpret_cast<const char*>(&next), 8)));
    }
  }
  state.SetItemsProcessed(state.iterations() * kPairsPerIteration);
  (void)db->Close();
}
BENCHMARK(BM_BareRocksDb)->Arg(100'000)->Unit(benchmark::kMillisecond);

void RunBackend(benchmark::State& state, engine::KeyedStateBackend& backend) {
  const Keys keys(static_cast<uint32_t>(state.range(0)));
  const engine::StateId count = backend.Register("count", engine::StateKind::kValue).value();
  Draws draws;
  engine::Bytes value;
  for (auto _ : state) {
    for (int64_t i = 0; i < kPairsPerIteration; ++i) {
      const uint32_t k = draws.Next(static_cast<uint32_t>(keys.names.size()));
      backend.SetCurrentKey(keys.groups[k], keys.names[k]);
      uint64_t next = 1;
      if (backend.GetCurrent(count, value) && value.size() == 8) {
        std::memcpy(&next, value.data(), 8);
        ++next;
      }
      value.resize(8);
      std::memcpy(value.data(), &next, 8);
      backend.PutCurrent(count, value);
      backend.ClearCurrentKey();
    }
  }
  state.SetItemsProcessed(state.iterations() * kPairsPerIteration);
}

void BM_RocksDbBackend(benchmark::State& state) {
  Node node;
  auto backend = engine::NewRocksDbStateBackend(engine::KeyGroupRange::Of(0, kMaxParallelism - 1),
                                                {.fs = node.fs(), .directory = "/rocks"});
  if (!backend.ok()) {
    state.SkipWithError("open failed");
    return;
  }
  RunBackend(state, **backend);
}
BENCHMARK(BM_RocksDbBackend)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_HeapBackend(benchmark::State& state) {
  auto backend = engine::NewHeapStateBackend(engine::KeyGroupRange::Of(0, kMaxParallelism - 1));
  RunBackend(state, *backend);
}
BENCHMARK(BM_HeapBackend)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace faultline

BENCHMARK_MAIN();
