// Determinism of the simulated world: same seed + build => the same trace hash, in-process and
// in a separate process; different seeds => different hashes; and every seed's world actually
// did something (a crash, a partition, a credit stall, lost unsynced data), so a world that
// does nothing cannot pass.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "examples/demo_world.h"

namespace faultline::demo {
using sim::TraceObserver;
using sim::TraceRecord;
using sim::TraceRecorder;
namespace {

constexpr uint64_t kFirstSeed = 1;

// 200 seeds in CI; FAULTLINE_SEEDS=N runs N for a longer search.
uint64_t SeedCount() {
  const char* env = std::getenv("FAULTLINE_SEEDS");
  if (env == nullptr || *env == '\0') return 200;
  const uint64_t n = std::strtoull(env, nullptr, 10);
  return n == 0 ? 200 : n;
}
const uint64_t kSeeds = SeedCount();

DemoSummary RunSeed(uint64_t seed, bool keep_trace = false) {
  DemoWorld demo(DemoOptions{.seed = seed, .keep_trace = keep_trace});
  return demo.Run();
}

std::map<uint64_t, uint64_t> HashesFromSeparateProcess() {
  const std::string command = std::string(FAULTLINE_CLI_PATH) + " sim-demo --seed " +
                              std::to_string(kFirstSeed) + " --count " + std::to_string(kSeeds) +
                              " --hash-only";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  EXPECT_NE(pipe, nullptr) << command;
  std::map<uint64_t, uint64_t> hashes;
  if (pipe == nullptr) return hashes;
  uint64_t seed = 0;
  uint64_t hash = 0;
  while (std::fscanf(pipe.get(), "%" SCNu64 " %" SCNx64, &seed, &hash) == 2) hashes[seed] = hash;
  return hashes;
}

TEST(DeterminismTest, ManySeedsInProcessAndInASeparateProcess) {
  const std::map<uint64_t, uint64_t> separate = HashesFromSeparateProcess();
  ASSERT_EQ(separate.size(), kSeeds);
  std::set<uint64_t> distinct;
  for (uint64_t seed = kFirstSeed; seed < kFirstSeed + kSeeds; ++seed) {
    const DemoSummary first = RunSeed(seed);
    const DemoSummary second = RunSeed(seed);
    ASSERT_EQ(first.trace_hash, second.trace_hash) << "seed " << seed << " diverged in-process";
    ASSERT_EQ(first.trace_records, second.trace_records);
    ASSERT_EQ(first.trace_hash, separate.at(seed))
        << "seed " << seed << " diverged in a separate process";
    distinct.insert(first.trace_hash);

    // The world did something worth determinism.
    EXPECT_GE(first.crashes, 1u) << "seed " << seed;
    EXPECT_GE(first.partitions, 1u) << "seed " << seed;
    EXPECT_GE(first.network.credit_stalls, 1u) << "seed " << seed;
    EXPECT_GE(first.crashes_losing_data, 1u) << "seed " << seed << ": no unsynced data lost";
    EXPECT_GT(first.unsynced_bytes_lost, 0u) << "seed " << seed;
    EXPECT_GE(first.network.dropped + first.events_dropped, 1u) << "seed " << seed;
    EXPECT_EQ(first.order_violations, 0u) << "seed " << seed << ": FIFO broken on a channel";
  }
  EXPECT_EQ(distinct.size(), kSeeds) << "different seeds must give different hashes";
}

TEST(DeterminismTest, KeepingRecordsOrObservingDoesNotChangeTheHash) {
  const DemoSummary hashed = RunSeed(42, /*keep_trace=*/false);
  const DemoSummary kept = RunSeed(42, /*keep_trace=*/true);
  EXPECT_EQ(hashed.trace_hash, kept.trace_hash);

  struct Watcher : TraceObserver {
    uint64_t seen = 0;
    void OnRecord(const TraceRecord&) override { ++seen; }
  } watcher;
  DemoWorld observed(DemoOptions{.seed = 42});
  observed.world().trace().AddObserver(&watcher);
  const DemoSummary watched = observed.Run();
  EXPECT_EQ(watched.trace_hash, hashed.trace_hash);
  EXPECT_GT(watcher.seen, 0u);
}

TEST(DeterminismTest, KeptRecordsReproduceTheHash) {
  DemoWorld demo(DemoOptions{.seed = 5, .keep_trace = true});
  const DemoSummary summary = demo.Run();
  const auto& records = demo.world().trace().records();
  ASSERT_EQ(records.size(), summary.trace_records);
  EXPECT_EQ(TraceRecorder::HashAll(records), summary.trace_hash);
  // Changing any one field of one record anywhere changes the hash.
  std::vector<TraceRecord> copy = records;
  copy[copy.size() / 2].args[2] += 1;
  EXPECT_NE(TraceRecorder::HashAll(copy), summary.trace_hash);
}

}  // namespace
}  // namespace faultline::demo
