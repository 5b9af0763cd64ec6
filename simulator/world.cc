#include "simulator/world.h"

#include "base/assert.h"
#include "base/int128.h"

namespace faultline::sim {
namespace {

// Encodes an event id as a runtime timer id: sequence in the high bits, slot in the low 24.
constexpr int kSlotBits = 24;
runtime::TimerId ToTimerId(EventId id) {
  FL_ASSERT(id.slot < (1u << kSlotBits));
  return runtime::TimerId{(id.seq << kSlotBits) | id.slot};
}
EventId FromTimerId(runtime::TimerId timer) {
  return EventId{timer.value >> kSlotBits,
                 static_cast<uint32_t>(timer.value & ((1u << kSlotBits) - 1))};
}

}  // namespace

// The per-node runtime: the node's view of the world through the engine's interfaces.
// Long-lived across incarnations; every call acts for the node's current incarnation.
struct World::Node final : runtime::Clock,
                           runtime::Scheduler,
                           runtime::Transport,
                           runtime::BlobStore,
                           runtime::HaStore,
                           runtime::SourceLog,
                           runtime::OutputStore,
                           runtime::EventSink {
  World* world;
  uint32_t id;
  std::string name;
  ProcessFactory factory;
  bool up = false;
  Duration clock_offset;
  int64_t drift_ppm = 0;
  SimDisk disk;
  std::unique_ptr<Process> process;

  Node(World* w, uint32_t node_id, std::string node_name, ProcessFactory f, uint64_t capacity)
      : world(w),
        id(node_id),
        name(std::move(node_name)),
        factory(std::move(f)),
        disk(w, node_id, capacity) {}

  // Clock
  Time Now() const override { return world->LocalTime(id); }

  // Scheduler: a local delay becomes a true delay under the node's drift, rounded up, so that
  // when the timer fires the node's clock has advanced by at least `delay` (rounded down, a
  // 1 ns wait on a fast clock became no wait at all, and a task waiting for its clock to reach a
  // time re-armed itself forever at the same instant).
  runtime::TimerId ScheduleAfter(Duration delay, runtime::Task task) override {
    FL_ASSERT(delay >= Duration::Zero(), "negative timer delay");
    if (!up) return runtime::TimerId{};
    Duration true_delay = delay;
    if (drift_ppm != 0) {
      const Int128 rate = 1'000'000 + drift_ppm;
      true_delay = Duration::Nanos(
          static_cast<int64_t>((static_cast<Int128>(delay.nanos()) * 1'000'000 + rate - 1) / rate));
    }
    const EventId event =
        world->loop_.ScheduleTimer(world->now() + true_delay, std::move(task), world->OwnerOf(id));
    return ToTimerId(event);
  }
  bool Cancel(runtime::TimerId timer) override { return world->loop_.Cancel(FromTimerId(timer)); }

  // Transport
  Status Listen(uint32_t port, runtime::ChannelListener* listener) override {
    return world->network_.Listen(id, port, listener);
  }
  void StopListening(uint32_t port) override { world->network_.StopListening(id, port); }
  runtime::ChannelId Connect(runtime::Endpoint to, runtime::ChannelOptions options,
                             runtime::ChannelListener* sender) override {
    return world->network_.Connect(id, to, options, sender);
  }
  bool TrySend(runtime::ChannelId channel, runtime::Buffer& buffer) override {
    return world->network_.TrySend(id, channel, buffer);
  }
  bool SendEvent(runtime::ChannelId channel, runtime::Buffer& buffer) override {
    return world->network_.SendEvent(id, channel, buffer);
  }
  uint32_t Credits(runtime::ChannelId channel) const override {
    return world->network_.Credits(channel);
  }
  void ReturnCredit(runtime::ChannelId channel) override {
    world->network_.ReturnCredit(id, channel);
  }
  void Close(runtime::ChannelId channel) override { world->network_.Close(id, channel); }
  runtime::Buffer TakeBuffer() override { return world->network_.TakeBuffer(); }

  // BlobStore
  void Put(std::string n, runtime::Bytes data, runtime::Callback<Status> done) override {
    world->blob_store_.Put(id, std::move(n), std::move(data), std::move(done));
  }
  void Get(std::string n, runtime::Callback<Result<runtime::Bytes>> done) override {
    world->blob_store_.Get(id, std::move(n), std::move(done));
  }
  void Delete(std::string n, runtime::Callback<Status> done) override {
    world->blob_store_.Delete(id, std::move(n), std::move(done));
  }
  void List(std::string prefix, runtime::Callback<Result<std::vector<std::string>>> done) override {
    world->blob_store_.List(id, std::move(prefix), std::move(done));
  }

  // HaStore
  void Read(std::string key, runtime::Callback<Result<runtime::VersionedValue>> done) override {
    world->ha_store_.Read(id, std::move(key), std::move(done));
  }
  void CompareAndSet(std::string key, uint64_t expected, runtime::Bytes value,
                     runtime::Callback<Result<uint64_t>> done) override {
    world->ha_store_.CompareAndSet(id, std::move(key), expected, std::move(value), std::move(done));
  }

  // SourceLog
  uint32_t PartitionCount() const override { return world->source_log_.PartitionCount(); }
  void Read(uint32_t partition, uint64_t offset, uint32_t max_records,
            runtime::Callback<Result<runtime::LogBatch>> done) override {
    world->source_log_.Read(id, partition, offset, max_records, std::move(done));
  }
  void EndOffset(uint32_t partition, runtime::Callback<Result<uint64_t>> done) override {
    world->source_log_.EndOffset(id, partition, std::move(done));
  }

  // OutputStore
  void Fence(runtime::WriterEpoch who, runtime::Callback<Status> done) override {
    world->output_store_.Fence(id, std::move(who), std::move(done));
  }
  void Write(runtime::WriterEpoch who, std::string txn, runtime::RecordBatch records,
             runtime::Callback<Status> done) override {
    world->output_store_.Write(id, std::move(who), std::move(txn), std::move(records),
                               std::move(done));
  }
  void PreCommit(runtime::WriterEpoch who, std::string txn,
                 runtime::Callback<Status> done) override {
    world->output_store_.PreCommit(id, std::move(who), std::move(txn), std::move(done));
  }
  void Commit(runtime::WriterEpoch who, std::string txn, runtime::Callback<Status> done) override {
    world->output_store_.Commit(id, std::move(who), std::move(txn), std::move(done));
  }
  void Abort(runtime::WriterEpoch who, std::string txn, runtime::Callback<Status> done) override {
    world->output_store_.Abort(id, std::move(who), std::move(txn), std::move(done));
  }
  void Lookup(runtime::WriterEpoch who, std::string txn,
              runtime::Callback<Result<runtime::TxnStatus>> done) override {
    world->output_store_.Lookup(id, std::move(who), std::move(txn), std::move(done));
  }
  void Append(runtime::WriterEpoch who, runtime::RecordBatch records,
              runtime::Callback<Status> done) override {
    world->output_store_.Append(id, std::move(who), std::move(records), std::move(done));
  }
  void Upsert(runtime::WriterEpoch who, std::vector<runtime::UpsertEntry> entries,
              runtime::Callback<Status> done) override {
    world->output_store_.Upsert(id, std::move(who), std::move(entries), std::move(done));
  }

  // EventSink
  void Record(const runtime::EngineEvent& event) override {
    world->Record(TraceKind::kEngine, id, {event.kind, event.args[0], event.args[1], event.args[2]},
                  event.detail);
  }

  runtime::ProcessContext Context() {
    runtime::ProcessContext context;
    context.node = id;
    context.incarnation = world->Incarnation(id);
    context.clock = this;
    context.scheduler = this;
    context.transport = this;
    context.local_fs = &disk;
    context.blob_store = this;
    context.ha_store = this;
    context.source_log = this;
    context.output_store = this;
    context.events = this;
    return context;
  }
};

World::World(WorldOptions options)
    : options_(options),
      root_rng_(options.seed),
      loop_(options.loop),
      trace_(options.trace),
      faults_(&trace_),
      network_(this, options.network),
      blob_store_(this, options.blob_store),
      ha_store_(this, options.ha_store),
      source_log_(this, options.source_log),
      output_store_(this, options.output_store, options.output_transaction_timeout) {
  loop_.SetTimerObserver(this);
}

void World::OnTimerFired(EventOwner owner, uint64_t seq) {
  // Not the event's sequence number: it counts every event scheduled before, the world's own
  // included (the nemesis's arrivals), and the hash must not depend on how a fault was
  // scheduled, only on what happened (a nemesis run and its faults as plan entries hash equal).
  (void)seq;
  trace_.Record(now(), TraceKind::kTimerFired, owner.node, owner.incarnation, {0, 0, 0, 0});
}

World::~World() {
  // Processes go first: they may hold pointers into the world's parts.
  for (auto& node : nodes_) node->process.reset();
}

uint32_t World::AddNode(std::string name, ProcessFactory factory) {
  const uint32_t id = loop_.RegisterNode();
  FL_ASSERT(id == nodes_.size());
  nodes_.push_back(std::make_unique<Node>(this, id, std::move(name), std::move(factory),
                                          options_.disk_capacity_bytes));
  return id;
}

const std::string& World::NodeName(uint32_t node) const {
  FL_ASSERT(node < nodes_.size(), "unknown node");
  return nodes_[node]->name;
}

bool World::IsUp(uint32_t node) const {
  return node < nodes_.size() && nodes_[node]->up;
}

Process* World::ProcessOf(uint32_t node) {
  FL_ASSERT(node < nodes_.size(), "unknown node");
  return nodes_[node]->process.get();
}

SimDisk& World::disk(uint32_t node) {
  FL_ASSERT(node < nodes_.size(), "unknown node");
  return nodes_[node]->disk;
}

void World::Start(uint32_t node) {
  Node& n = *nodes_.at(node);
  FL_ASSERT(!n.up, "Start of a node that is up");
  n.up = true;
  Record(TraceKind::kNodeStart, node, {}, n.name);
  if (n.factory) n.process = n.factory(n.Context());
}

void World::Crash(uint32_t node, std::string_view reason) {
  Node& n = *nodes_.at(node);
  FL_ASSERT(n.up, "Crash of a node that is down");
  Record(TraceKind::kNodeCrash, node, {}, reason);
  network_.OnNodeCrash(node);
  n.disk.OnCrash();
  n.up = false;
  loop_.BumpIncarnation(node);  // its timers, held events and undelivered messages vanish
  loop_.SetPaused(node, false);
  n.process.reset();  // its memory vanishes; calls from the destructor act on nothing
}

void World::Restart(uint32_t node) {
  Node& n = *nodes_.at(node);
  FL_ASSERT(!n.up, "Restart of a node that is up");
  n.up = true;
  Record(TraceKind::kNodeRestart, node);
  if (n.factory) n.process = n.factory(n.Context());
}

void World::Pause(uint32_t node) {
  FL_ASSERT(IsUp(node), "Pause of a node that is down");
  if (loop_.IsPaused(node)) return;
  Record(TraceKind::kNodePause, node);
  loop_.SetPaused(node, true);
}

void World::Resume(uint32_t node) {
  if (!loop_.IsPaused(node)) return;
  Record(TraceKind::kNodeResume, node, {static_cast<int64_t>(loop_.HeldEvents(node)), 0, 0, 0});
  loop_.SetPaused(node, false);
}

void World::LoseDisk(uint32_t node) {
  disk(node).LoseAll();
}

void World::SetClock(uint32_t node, Duration offset, int64_t drift_ppm) {
  Node& n = *nodes_.at(node);
  FL_ASSERT(drift_ppm > -1'000'000, "a clock cannot run backwards");
  n.clock_offset = offset;
  n.drift_ppm = drift_ppm;
  Record(TraceKind::kClockSet, node, {offset.nanos(), drift_ppm, 0, 0});
}

Time World::LocalTime(uint32_t node) const {
  const Node& n = *nodes_.at(node);
  const int64_t t = now().nanos();
  const auto drift = static_cast<int64_t>(static_cast<Int128>(t) * n.drift_ppm / 1'000'000);
  return Time::FromNanos(t + drift) + n.clock_offset;
}

Duration World::ClockOffset(uint32_t node) const {
  return nodes_.at(node)->clock_offset;
}

int64_t World::ClockDriftPpm(uint32_t node) const {
  return nodes_.at(node)->drift_ppm;
}

}  // namespace faultline::sim
