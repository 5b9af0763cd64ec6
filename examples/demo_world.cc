#include "examples/demo_world.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <vector>

#include "base/assert.h"
#include "base/build_info.h"

namespace faultline::demo {

// The kernel's parts this example world is made of.
using sim::DiskStats;
using sim::kNoNode;
using sim::Process;
using sim::TraceKind;
using sim::TraceRecorder;
using sim::World;
using sim::WorldOptions;

namespace {

constexpr uint32_t kPort = 1;
constexpr char kLogPath[] = "demo/received.log";

void PutU64(runtime::Buffer& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t GetU64(const runtime::Buffer& b, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b[at + static_cast<size_t>(i)]) << (8 * i);
  return v;
}

// One demo process. Everything it knows dies with it; only its disk's synced bytes survive.
class DemoProcess final : public Process, public runtime::ChannelListener {
 public:
  DemoProcess(const runtime::ProcessContext& context, uint32_t node_count, Rng rng,
              DemoWorld::Tally* tally)
      : ctx_(context), node_count_(node_count), rng_(rng), tally_(tally) {
    FL_ASSERT(runtime::IsComplete(ctx_));
    // Recovery: the synced part of the log survived the crash.
    if (auto size = ctx_.local_fs->Size(kLogPath); size.ok()) {
      tally_->recovered_log_bytes += *size;
    } else {
      ctx_.local_fs->Create(kLogPath).IgnoreError();
    }
    slow_consumer_ = rng_.Bernoulli(0.5);
    ctx_.transport->Listen(kPort, this).IgnoreError();
    for (uint32_t peer = 0; peer < node_count_; ++peer) {
      if (peer != ctx_.node) Connect(peer);
    }
    ScheduleSend();
    ScheduleSync();
    ScheduleSnapshot();
  }

  ~DemoProcess() override {
    ctx_.transport->StopListening(kPort);
    for (const auto& [channel, peer] : outbound_) ctx_.transport->Close(channel);
    for (const auto& [channel, next] : inbound_) ctx_.transport->Close(channel);
  }

  // --- sending ---
  void OnWritable(runtime::ChannelId channel) override { writable_[channel] = true; }

  void OnChannelFailed(runtime::ChannelId channel, const Status& why) override {
    (void)why;
    inbound_.erase(channel);
    auto it = outbound_.find(channel);
    if (it == outbound_.end()) return;
    const uint32_t peer = it->second;
    outbound_.erase(it);
    writable_.erase(channel);
    sent_.erase(channel);
    // Reconnect later: a fresh channel starts a fresh sequence.
    ctx_.scheduler->ScheduleAfter(
        Duration::Millis(50) + rng_.ExponentialDuration(Duration::Millis(100)),
        [this, peer] { Connect(peer); });
  }

  // --- receiving ---
  void OnAccepted(runtime::ChannelId channel, runtime::Endpoint from) override {
    (void)from;
    inbound_[channel] = 0;
  }

  void OnReceive(runtime::ChannelId channel, runtime::Buffer& buffer) override {
    auto it = inbound_.find(channel);
    FL_ASSERT(it != inbound_.end(), "a buffer on a channel that was never accepted");
    const uint64_t seq = GetU64(buffer, 0);
    if (seq != it->second) ++tally_->order_violations;
    it->second = seq + 1;
    // Consume: log it, then return the credit after the processing time. A slow consumer
    // takes longer than its senders' interval, so they stall on credit.
    const uint64_t bytes = buffer.size();
    std::vector<uint8_t> entry(16);
    for (int i = 0; i < 8; ++i)
      entry[static_cast<size_t>(i)] = static_cast<uint8_t>(seq >> (8 * i));
    for (int i = 0; i < 8; ++i) {
      entry[static_cast<size_t>(8 + i)] = static_cast<uint8_t>(bytes >> (8 * i));
    }
    ctx_.local_fs->Append(kLogPath, entry).IgnoreError();
    const Duration work =
        rng_.ExponentialDuration(slow_consumer_ ? Duration::Millis(4) : Duration::Micros(300));
    ctx_.scheduler->ScheduleAfter(work, [this, channel] {
      if (inbound_.count(channel)) ctx_.transport->ReturnCredit(channel);
    });
  }

 private:
  void Connect(uint32_t peer) {
    const auto credits = static_cast<uint32_t>(rng_.UniformInt(2, 4));
    const runtime::ChannelId channel =
        ctx_.transport->Connect(runtime::Endpoint{peer, kPort}, {.credits = credits}, this);
    outbound_[channel] = peer;
    sent_[channel] = 0;
  }

  void ScheduleSend() {
    ctx_.scheduler->ScheduleAfter(rng_.ExponentialDuration(Duration::Millis(1)), [this] {
      SendOne();
      ScheduleSend();
    });
  }

  void SendOne() {
    if (outbound_.empty()) return;
    // A random open channel; map order is by channel id, so the choice is deterministic.
    std::vector<runtime::ChannelId> open;
    for (const auto& [channel, peer] : outbound_) {
      if (writable_.count(channel)) open.push_back(channel);
    }
    if (open.empty()) return;
    const runtime::ChannelId channel = open[rng_.UniformU64(open.size())];
    if (spare_.capacity() == 0) spare_ = ctx_.transport->TakeBuffer();
    spare_.clear();
    PutU64(spare_, sent_[channel]);
    spare_.resize(8 + rng_.UniformU64(2048), 0xab);
    // On success the transport takes the buffer; without credit it stays here for next time.
    if (ctx_.transport->TrySend(channel, spare_)) ++sent_[channel];
  }

  void ScheduleSync() {
    ctx_.scheduler->ScheduleAfter(rng_.ExponentialDuration(Duration::Millis(80)), [this] {
      ctx_.local_fs->Sync(kLogPath).IgnoreError();
      ScheduleSync();
    });
  }

  void ScheduleSnapshot() {
    ctx_.scheduler->ScheduleAfter(rng_.ExponentialDuration(Duration::Millis(400)), [this] {
      const uint64_t size = ctx_.local_fs->Size(kLogPath).value_or(0);
      runtime::Bytes snapshot;
      PutU64(snapshot, size);
      ++snapshots_;
      ctx_.blob_store->Put(
          "demo/node-" + std::to_string(ctx_.node) + "/snapshot-" + std::to_string(snapshots_),
          std::move(snapshot), [this](Status s) {
            if (s.ok()) ++tally_->blob_puts_ok;
          });
      BumpCounter();
      ScheduleSnapshot();
    });
  }

  // Read-modify-CAS of a shared counter: conflicting writers lose and learn the new version.
  void BumpCounter() {
    ctx_.ha_store->Read("demo/counter", [this](Result<runtime::VersionedValue> r) {
      if (!r.ok()) return;
      runtime::Bytes next;
      PutU64(next, r->version + 1);
      ctx_.ha_store->CompareAndSet("demo/counter", r->version, std::move(next),
                                   [this](Result<uint64_t> cas) {
                                     if (cas.ok())
                                       ++tally_->ha_wins;
                                     else
                                       ++tally_->ha_conflicts;
                                   });
    });
  }

  runtime::ProcessContext ctx_;
  uint32_t node_count_;
  Rng rng_;
  DemoWorld::Tally* tally_;
  bool slow_consumer_ = false;
  uint64_t snapshots_ = 0;
  std::map<runtime::ChannelId, uint32_t> outbound_;  // channel -> peer
  std::map<runtime::ChannelId, bool> writable_;      // established outbound channels
  std::map<runtime::ChannelId, uint64_t> sent_;      // next sequence per outbound channel
  std::map<runtime::ChannelId, uint64_t> inbound_;   // next expected sequence per inbound
  runtime::Buffer spare_;
};

}  // namespace

DemoWorld::DemoWorld(DemoOptions options)
    : options_(options), nemesis_rng_(Rng(options.seed).Fork("demo/nemesis")) {
  FL_ASSERT(options_.nodes >= 2, "the demo needs at least two nodes");
  WorldOptions world_options;
  world_options.seed = options_.seed;
  world_options.trace.keep_records = options_.keep_trace;
  world_ = std::make_unique<World>(world_options);
  for (uint32_t i = 0; i < options_.nodes; ++i) {
    world_->AddNode("proc-" + std::to_string(i), [this, i](const runtime::ProcessContext& ctx) {
      Rng rng = world_->ForkRng("demo/process-" + std::to_string(i))
                    .Fork(static_cast<uint64_t>(ctx.incarnation));
      return std::make_unique<DemoProcess>(ctx, options_.nodes, rng, &tally_);
    });
  }
  Rng clocks = world_->ForkRng("demo/clocks");
  for (uint32_t i = 0; i < options_.nodes; ++i) {
    // One draw per statement: a call's arguments are evaluated in an order C++ leaves to the
    // compiler, and GCC and clang differ (the hash must not).
    const int64_t drift_ppm = clocks.UniformInt(-200, 200);
    const Duration offset = clocks.UniformDuration(Duration::Millis(-50), Duration::Millis(50));
    world_->SetClock(i, offset, drift_ppm);
  }
  for (uint32_t i = 0; i < options_.nodes; ++i) world_->Start(i);
  world_->source_log().AddPartitions(1);
}

DemoWorld::~DemoWorld() = default;

void DemoWorld::ScheduleNemesis() {
  const Duration half = options_.duration / 2;
  // One crash and one partition are guaranteed in the first half, so every run exercises
  // them; more follow at random.
  world_->loop().ScheduleAfter(nemesis_rng_.UniformDuration(Duration::Millis(200), half),
                               [this] { CrashNodeWithUnsyncedData(/*attempts_left=*/100); });
  world_->loop().ScheduleAfter(nemesis_rng_.UniformDuration(Duration::Millis(200), half),
                               [this] { PartitionSomehow(); });
  world_->loop().ScheduleAfter(nemesis_rng_.ExponentialDuration(Duration::Seconds(2)),
                               [this] { PauseSomeNode(); });
}

void DemoWorld::CrashNodeWithUnsyncedData(int attempts_left) {
  // A targeted crash: a node whose disk holds unsynced bytes (read through the side channel,
  // which records nothing and draws nothing), so every run shows what a crash loses.
  std::vector<uint32_t> candidates;
  for (uint32_t i = 0; i < options_.nodes; ++i) {
    if (world_->IsUp(i) && world_->disk(i).UnsyncedBytes() > 0) candidates.push_back(i);
  }
  if (candidates.empty() || world_->node_count() < 2) {
    if (attempts_left > 0) {
      world_->loop().ScheduleAfter(Duration::Millis(5), [this, attempts_left] {
        CrashNodeWithUnsyncedData(attempts_left - 1);
      });
    }
    return;
  }
  const uint32_t victim = candidates[nemesis_rng_.UniformU64(candidates.size())];
  world_->Crash(victim, "nemesis: crash with unsynced writes");
  world_->loop().ScheduleAfter(
      nemesis_rng_.UniformDuration(Duration::Millis(100), Duration::Millis(800)),
      [this, victim] { world_->Restart(victim); });
  world_->loop().ScheduleAfter(nemesis_rng_.ExponentialDuration(Duration::Millis(1500)),
                               [this] { CrashSomeNode(); });
}

void DemoWorld::CrashSomeNode() {
  std::vector<uint32_t> up;
  for (uint32_t i = 0; i < options_.nodes; ++i) {
    if (world_->IsUp(i)) up.push_back(i);
  }
  if (up.size() > 1) {
    const uint32_t victim = up[nemesis_rng_.UniformU64(up.size())];
    world_->Crash(victim, "nemesis");
    world_->loop().ScheduleAfter(
        nemesis_rng_.UniformDuration(Duration::Millis(100), Duration::Millis(800)),
        [this, victim] { world_->Restart(victim); });
  }
  world_->loop().ScheduleAfter(nemesis_rng_.ExponentialDuration(Duration::Millis(1500)),
                               [this] { CrashSomeNode(); });
}

void DemoWorld::PartitionSomehow() {
  std::vector<uint32_t> a;
  std::vector<uint32_t> b;
  // A random split with both sides non-empty: node 0 on side a, node 1 on side b, the rest
  // at random.
  a.push_back(0);
  b.push_back(1);
  for (uint32_t i = 2; i < options_.nodes; ++i) (nemesis_rng_.Bernoulli(0.5) ? a : b).push_back(i);
  const uint64_t id = world_->network().Partition(a, b);
  world_->loop().ScheduleAfter(
      nemesis_rng_.UniformDuration(Duration::Millis(100), Duration::Millis(1000)),
      [this, id] { world_->network().Heal(id); });
  world_->loop().ScheduleAfter(nemesis_rng_.ExponentialDuration(Duration::Seconds(2)),
                               [this] { PartitionSomehow(); });
}

void DemoWorld::PauseSomeNode() {
  const auto victim = static_cast<uint32_t>(nemesis_rng_.UniformU64(options_.nodes));
  if (world_->IsUp(victim) && !world_->IsPaused(victim)) {
    world_->Pause(victim);
    world_->loop().ScheduleAfter(
        nemesis_rng_.UniformDuration(Duration::Millis(20), Duration::Millis(300)), [this, victim] {
          if (world_->IsUp(victim)) world_->Resume(victim);
        });
  }
  world_->loop().ScheduleAfter(nemesis_rng_.ExponentialDuration(Duration::Seconds(2)),
                               [this] { PauseSomeNode(); });
}

DemoSummary DemoWorld::Run() {
  ScheduleNemesis();
  world_->RunUntil(Time::Zero() + options_.duration);
  const TraceRecorder& trace = world_->trace();
  DemoSummary s;
  s.seed = options_.seed;
  s.nodes = options_.nodes;
  s.end = world_->now();
  s.events = world_->loop().executed();
  s.events_dropped = world_->loop().dropped();
  s.network = world_->network().stats();
  s.crashes = trace.CountOf(TraceKind::kNodeCrash);
  s.restarts = trace.CountOf(TraceKind::kNodeRestart);
  s.pauses = trace.CountOf(TraceKind::kNodePause);
  s.partitions = trace.CountOf(TraceKind::kPartition);
  for (uint32_t i = 0; i < options_.nodes; ++i) {
    const DiskStats& d = world_->disk(i).stats();
    s.disk_syncs += d.syncs;
    s.unsynced_bytes_lost += d.bytes_lost_unsynced;
    s.crashes_losing_data += d.crash_losses;
  }
  s.recovered_log_bytes = tally_.recovered_log_bytes;
  s.blob_puts_ok = tally_.blob_puts_ok;
  s.ha_wins = tally_.ha_wins;
  s.ha_conflicts = tally_.ha_conflicts;
  s.order_violations = tally_.order_violations;
  s.trace_records = trace.count();
  s.trace_hash = trace.hash();
  return s;
}

std::string FormatDemoSummary(const DemoSummary& s) {
  char buf[2048];
  std::snprintf(
      buf, sizeof buf,
      "faultline sim-demo, seed %" PRIu64
      "\n"
      "  world    %u processes, %s simulated, %" PRIu64 " events run, %" PRIu64
      " events of crashed incarnations dropped\n"
      "  network  %" PRIu64 " buffers sent, %" PRIu64 " delivered (%" PRIu64 " bytes), %" PRIu64
      " dropped with failed channels, %" PRIu64 " credit stalls, %" PRIu64
      " channels opened, %" PRIu64
      " failed\n"
      "  faults   %" PRIu64 " crashes, %" PRIu64 " restarts, %" PRIu64 " partitions, %" PRIu64
      " pauses\n"
      "  disks    %" PRIu64 " syncs; %" PRIu64 " unsynced bytes lost in %" PRIu64
      " crashes; restarted processes found %" PRIu64
      " synced log bytes\n"
      "  storage  %" PRIu64 " snapshot blobs stored, HA counter: %" PRIu64 " wins, %" PRIu64
      " lost races\n"
      "  checks   per-channel FIFO without gaps: %s (%" PRIu64
      " violations)\n"
      "  trace    %" PRIu64 " records, hash %016" PRIx64
      "\n"
      "  build    %s\n"
      "  rerun    faultline sim-demo --seed %" PRIu64 "\n",
      s.seed, s.nodes, s.end.ToString().c_str(), s.events, s.events_dropped, s.network.sent,
      s.network.delivered, s.network.bytes_delivered, s.network.dropped, s.network.credit_stalls,
      s.network.channels_opened, s.network.channels_failed, s.crashes, s.restarts, s.partitions,
      s.pauses, s.disk_syncs, s.unsynced_bytes_lost, s.crashes_losing_data, s.recovered_log_bytes,
      s.blob_puts_ok, s.ha_wins, s.ha_conflicts, s.order_violations == 0 ? "held" : "VIOLATED",
      s.order_violations, s.trace_records, s.trace_hash, BuildIdentity().c_str(), s.seed);
  return buf;
}

}  // namespace faultline::demo
