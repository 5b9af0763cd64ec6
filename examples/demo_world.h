// The kernel demo (`faultline sim-demo`), an example world built on the kernel, not part of it:
// a randomized world of a few processes exchanging messages over back-pressured channels, logging
// what they receive to their local disks, publishing snapshots to the blob store and racing for a
// counter in the HA store, while a nemesis crashes and restarts nodes, partitions the network,
// pauses processes and skews clocks. Every process talks to the world only through engine/runtime
// interfaces, as the engine will.
//
// The demo checks what the kernel promises: FIFO, lossless delivery on every live channel (a
// receiver sees each channel's messages in send order with no gap). Its nemesis always
// crashes one node while that node has unsynced writes and always partitions the network once,
// in the first half of the run, then injects more crashes, partitions and pauses at random.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/time.h"
#include "simulator/world.h"

namespace faultline::demo {

struct DemoOptions {
  uint64_t seed = 1;
  uint32_t nodes = 4;
  Duration duration = Duration::Seconds(5);
  bool keep_trace = false;  // keep records (for --trace); the hash is computed either way
};

struct DemoSummary {
  uint64_t seed = 0;
  uint32_t nodes = 0;
  Time end;
  uint64_t events = 0;
  uint64_t events_dropped = 0;  // events of crashed incarnations that never ran
  sim::NetworkStats network;
  uint64_t crashes = 0;
  uint64_t restarts = 0;
  uint64_t pauses = 0;
  uint64_t partitions = 0;
  uint64_t disk_syncs = 0;
  uint64_t unsynced_bytes_lost = 0;
  uint64_t crashes_losing_data = 0;
  uint64_t recovered_log_bytes = 0;  // synced log bytes found by restarted processes
  uint64_t blob_puts_ok = 0;
  uint64_t ha_wins = 0;
  uint64_t ha_conflicts = 0;
  uint64_t order_violations = 0;  // must be 0: a gap or reordering on a live channel
  uint64_t trace_records = 0;
  uint64_t trace_hash = 0;
};

class DemoWorld {
 public:
  explicit DemoWorld(DemoOptions options);
  ~DemoWorld();

  DemoSummary Run();
  sim::World& world() { return *world_; }

  // Shared tallies the processes update (they outlive any one incarnation).
  struct Tally {
    uint64_t order_violations = 0;
    uint64_t recovered_log_bytes = 0;
    uint64_t blob_puts_ok = 0;
    uint64_t ha_wins = 0;
    uint64_t ha_conflicts = 0;
  };

 private:
  void ScheduleNemesis();
  void CrashSomeNode();
  void CrashNodeWithUnsyncedData(int attempts_left);
  void PartitionSomehow();
  void PauseSomeNode();

  DemoOptions options_;
  std::unique_ptr<sim::World> world_;
  Rng nemesis_rng_;
  Tally tally_;
};

// A one-paragraph, human-readable report of a demo run.
std::string FormatDemoSummary(const DemoSummary& summary);

}  // namespace faultline::demo
