// The simulated world: one event loop on virtual time, one seed, the trace, and the parts a
// distributed job runs on: nodes (processes with incarnations), the network, a local disk per
// node, and the shared services (blob store, HA store, source log, output store).
//
// A node runs one Process built by its factory from a runtime::ProcessContext. Crash destroys
// the process (its memory), drops its timers and undelivered messages, fails its channels,
// drops its disk's unsynced bytes and raises its incarnation; Restart builds a new process.
// Pause holds the node's events back until Resume (a stall, like a long GC pause).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/rng.h"
#include "base/time.h"
#include "engine/runtime/runtime.h"
#include "simulator/disk.h"
#include "simulator/event_loop.h"
#include "simulator/fault_points.h"
#include "simulator/network.h"
#include "simulator/services.h"
#include "simulator/trace.h"

namespace faultline::sim {

inline constexpr uint32_t kNoNode = runtime::kNoNode;

// What runs on a node. Destroyed on crash; must not outlive its ProcessContext.
class Process {
 public:
  virtual ~Process() = default;
};
using ProcessFactory =
    std::function<std::unique_ptr<Process>(const runtime::ProcessContext& context)>;

struct WorldOptions {
  uint64_t seed = 1;
  EventLoop::Options loop;
  TraceRecorder::Options trace;
  NetworkOptions network;
  ServiceLatency blob_store{Duration::Millis(2), Duration::Millis(3), 200'000'000};
  ServiceLatency ha_store{Duration::Millis(1), Duration::Millis(1), 0};
  ServiceLatency source_log{Duration::Micros(200), Duration::Micros(300), 0};
  ServiceLatency output_store{Duration::Micros(500), Duration::Micros(500), 0};
  // The output store aborts a transaction open or pre-committed longer than this (Kafka's
  // transaction.timeout.ms); zero: transactions never expire.
  Duration output_transaction_timeout = Duration::Zero();
  uint64_t disk_capacity_bytes = uint64_t{1} << 30;
};

class World final : private TimerObserver {
 public:
  explicit World(WorldOptions options);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // --- time, randomness, trace -------------------------------------------------------------
  Time now() const { return loop_.now(); }
  uint64_t seed() const { return options_.seed; }
  // A random stream for a component, stable by name (see base/rng.h).
  Rng ForkRng(std::string_view name) const { return root_rng_.Fork(name); }
  EventLoop& loop() { return loop_; }
  TraceRecorder& trace() { return trace_; }
  const TraceRecorder& trace() const { return trace_; }
  FaultHooks& faults() { return faults_; }
  // Records at now, with the node's current incarnation (kNoNode: a world-level record).
  void Record(TraceKind kind, uint32_t node, std::array<int64_t, 4> args = {},
              std::string_view detail = {}) {
    const uint32_t incarnation = node == kNoNode ? 0 : loop_.Incarnation(node);
    trace_.Record(now(), kind, node, incarnation, args, detail);
  }

  // --- nodes ---------------------------------------------------------------------------------
  uint32_t AddNode(std::string name, ProcessFactory factory);
  size_t node_count() const { return nodes_.size(); }
  const std::string& NodeName(uint32_t node) const;
  bool IsUp(uint32_t node) const;
  uint32_t Incarnation(uint32_t node) const { return loop_.Incarnation(node); }
  EventOwner OwnerOf(uint32_t node) const { return EventOwner{node, Incarnation(node)}; }
  Process* ProcessOf(uint32_t node);

  void Start(uint32_t node);
  void Crash(uint32_t node, std::string_view reason);
  void Restart(uint32_t node);
  void Pause(uint32_t node);
  void Resume(uint32_t node);
  bool IsPaused(uint32_t node) const { return loop_.IsPaused(node); }
  // The node's machine loses its disk (the node should be down: crash it first).
  void LoseDisk(uint32_t node);
  // The node's clock reads true time + offset + drift (parts per million of elapsed time).
  void SetClock(uint32_t node, Duration offset, int64_t drift_ppm);
  Time LocalTime(uint32_t node) const;
  Duration ClockOffset(uint32_t node) const;
  int64_t ClockDriftPpm(uint32_t node) const;

  // --- components ----------------------------------------------------------------------------
  Network& network() { return network_; }
  SimDisk& disk(uint32_t node);
  BlobStoreSim& blob_store() { return blob_store_; }
  HaStoreSim& ha_store() { return ha_store_; }
  SourceLogSim& source_log() { return source_log_; }
  OutputStoreSim& output_store() { return output_store_; }

  // --- running -------------------------------------------------------------------------------
  RunResult RunUntil(Time limit) { return loop_.RunUntil(limit); }
  RunResult RunFor(Duration span) { return loop_.RunFor(span); }
  RunResult RunUntilQuiescent(uint64_t max_events) { return loop_.RunUntilQuiescent(max_events); }

 private:
  struct Node;
  void OnTimerFired(EventOwner owner, uint64_t seq) override;

  WorldOptions options_;
  Rng root_rng_;
  EventLoop loop_;
  TraceRecorder trace_;
  FaultHooks faults_;
  Network network_;
  BlobStoreSim blob_store_;
  HaStoreSim ha_store_;
  SourceLogSim source_log_;
  OutputStoreSim output_store_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace faultline::sim
