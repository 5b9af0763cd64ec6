#include "engine/exec/chain.h"

#include <array>
#include <cstring>
#include <deque>

#include "base/assert.h"
#include "base/bytes.h"
#include "engine/exec/events.h"
#include "engine/state/key_groups.h"

namespace faultline::engine {
namespace {

int64_t DecodeI64(std::span<const uint8_t> b) {
  FL_ASSERT(b.size() == 8, "an int64 state value is 8 bytes");
  uint64_t v = 0;
  std::memcpy(&v, b.data(), 8);  // little-endian (record.cc asserts the host is)
  return static_cast<int64_t>(v);
}

std::array<uint8_t, 8> I64Bytes(int64_t v) {
  std::array<uint8_t, 8> out;
  std::memcpy(out.data(), &v, 8);
  return out;
}

}  // namespace

// --- keyed state of the current key ---------------------------------------------------------

class ChainRunner::Keyed final : public KeyedContext, public Collector {
 public:
  Keyed(KeyedStateBackend* backend, uint32_t max_parallelism)
      : backend_(backend), groups_(backend->key_groups()), max_parallelism_(max_parallelism) {}

  // Runs the keyed function on `in`; what it emits goes on at stage `next_stage` of `runner`.
  void Run(const OperatorSpec& op, const Record& in, ChainRunner* runner, size_t next_stage) {
    key_ = &in.key;  // `in` outlives this call, and the state calls happen inside it
    group_ = KeyGroupForKey(in.key, max_parallelism_);
    FL_ASSERT(groups_.Contains(group_), "a record routed to the wrong subtask");
    backend_->SetCurrentKey(group_, in.key);
    // Provenance of the key's state: every record that reached it.
    if (!provenance_id_) provenance_id_ = Id(kProvenanceState, StateKind::kValue);
    Provenance total;
    if (backend_->GetCurrent(*provenance_id_, provenance_scratch_) &&
        provenance_scratch_.size() == 16) {
      std::memcpy(&total.count, provenance_scratch_.data(), 8);
      std::memcpy(&total.hash_sum, provenance_scratch_.data() + 8, 8);
    }
    total += in.provenance;
    std::array<uint8_t, 16> value;
    std::memcpy(value.data(), &total.count, 8);
    std::memcpy(value.data() + 8, &total.hash_sum, 8);
    backend_->PutCurrent(*provenance_id_, value);
    input_provenance_ = in.provenance;
    first_output_ = true;
    runner_ = runner;
    next_stage_ = next_stage;
    op.keyed_process->Process(in, *this, *this);
    runner_ = nullptr;
    key_ = &kNoKey;
    backend_->ClearCurrentKey();  // `in`'s bytes may change once this returns
  }

  // Collector: the first output carries the input's provenance, later ones none, so every
  // source record is reflected exactly once downstream.
  void Emit(Record record) override {
    if (record.provenance.count == 0 && first_output_) record.provenance = input_provenance_;
    first_output_ = false;
    FL_ASSERT(runner_ != nullptr, "a keyed function emitted outside Process");
    runner_->RunFrom(next_stage_, record);
  }

  const std::string& key() const override { return *key_; }

  std::optional<int64_t> GetValue(std::string_view state) override {
    if (!backend_->GetCurrent(Id(state, StateKind::kValue), scratch_)) {
      return std::nullopt;
    }
    return DecodeI64(scratch_);
  }
  void SetValue(std::string_view state, int64_t value) override {
    backend_->PutCurrent(Id(state, StateKind::kValue), I64Bytes(value));
  }
  void ClearValue(std::string_view state) override {
    backend_->Delete(Id(state, StateKind::kValue), group_, *key_, "");
  }
  void AddToList(std::string_view state, int64_t value) override {
    const StateId id = Id(state, StateKind::kList);
    Bytes list = backend_->Get(id, group_, *key_, "").value_or(Bytes{});
    PutU64(list, static_cast<uint64_t>(value));
    backend_->Put(id, group_, *key_, "", std::move(list));
  }
  std::vector<int64_t> GetList(std::string_view state) override {
    std::vector<int64_t> out;
    auto list = backend_->Get(Id(state, StateKind::kList), group_, *key_, "");
    if (!list) return out;
    for (size_t i = 0; i + 8 <= list->size(); i += 8) {
      out.push_back(DecodeI64(Bytes(list->begin() + static_cast<ptrdiff_t>(i),
                                    list->begin() + static_cast<ptrdiff_t>(i + 8))));
    }
    return out;
  }
  std::optional<int64_t> GetMapEntry(std::string_view state, std::string_view user_key) override {
    if (!backend_->GetInto(Id(state, StateKind::kMap), group_, *key_, user_key, scratch_)) {
      return std::nullopt;
    }
    return DecodeI64(scratch_);
  }
  void PutMapEntry(std::string_view state, std::string_view user_key, int64_t value) override {
    backend_->PutCopy(Id(state, StateKind::kMap), group_, *key_, user_key, I64Bytes(value));
  }
  void RemoveMapEntry(std::string_view state, std::string_view user_key) override {
    backend_->Delete(Id(state, StateKind::kMap), group_, *key_, user_key);
  }
  std::vector<std::pair<std::string, int64_t>> GetMap(std::string_view state) override {
    std::vector<std::pair<std::string, int64_t>> out;
    backend_->ForEach(Id(state, StateKind::kMap), group_, *key_,
                      [&out](std::string_view user_key, std::span<const uint8_t> value) {
                        out.emplace_back(std::string(user_key), DecodeI64(value));
                      });
    return out;
  }
  void AddToReducing(std::string_view state, int64_t value) override {
    const StateId id = Id(state, StateKind::kReducing);
    const bool had = backend_->GetCurrent(id, scratch_);
    backend_->PutCurrent(id, I64Bytes(had ? DecodeI64(scratch_) + value : value));
  }
  std::optional<int64_t> GetReducing(std::string_view state) override {
    if (!backend_->GetCurrent(Id(state, StateKind::kReducing), scratch_)) {
      return std::nullopt;
    }
    return DecodeI64(scratch_);
  }

 private:
  // A function uses a handful of states: a scan of the names it used (inline short compares)
  // beats a tree or a hash here.
  StateId Id(std::string_view name, StateKind kind) {
    for (const KnownState& known : ids_) {
      if (known.name.size() == name.size() && known.kind == kind && EqualBytes(known.name, name)) {
        return known.id;
      }
    }
    return Register(name, kind);
  }
  [[gnu::noinline]] StateId Register(std::string_view name, StateKind kind) {
    Result<StateId> id = backend_->Register(name, kind);
    FL_ASSERT(id.ok(), "a state name used with two kinds");
    ids_.push_back({std::string(name), kind, *id});
    return *id;
  }

  static inline const std::string kNoKey;
  KeyedStateBackend* backend_;
  const KeyGroupRange groups_;  // the backend's, fixed for its lifetime
  uint32_t max_parallelism_;
  struct KnownState {
    std::string name;
    StateKind kind;
    StateId id;
  };
  std::vector<KnownState> ids_;
  const std::string* key_ = &kNoKey;  // the current record's key
  KeyGroup group_ = 0;
  Provenance input_provenance_;
  bool first_output_ = true;
  std::optional<StateId> provenance_id_;
  // The last values read, reused so reads do not allocate; the provenance apart, so neither
  // changes size from record to record.
  Bytes scratch_;
  Bytes provenance_scratch_;
  ChainRunner* runner_ = nullptr;
  size_t next_stage_ = 0;
};

// --- sinks ----------------------------------------------------------------------------------

// Write lane: kFence, kAppend, kWrite, kPreCommit, kUpsert. Commit lane: kCommit, kRecover and
// kSync (no store call; completes once every earlier operation of both lanes did).
enum class SinkWriter::OpKind : uint8_t {
  kFence,
  kAppend,
  kWrite,
  kPreCommit,
  kCommit,
  kRecover,
  kUpsert,
  kSync
};

struct SinkWriter::Op {
  using Kind = OpKind;
  Kind kind;
  std::string txn;
  uint64_t checkpoint = 0;  // kCommit, kRecover: the checkpoint the transaction belongs to
  // kFence, kCommit, kRecover: the writer acting, when not this subtask's (an adopted one).
  std::string writer;
  // Commit lane: issued only once this many write-lane operations succeeded.
  uint64_t after_writes = 0;
  runtime::RecordBatch records;
  std::vector<runtime::UpsertEntry> upserts;  // for kUpsert
  std::function<void()> done;
};

SinkWriter::SinkWriter(const OperatorSpec& op, uint32_t subtask, uint64_t attempt,
                       runtime::ProcessContext& context, const TeachingSwitches& switches,
                       std::function<void(const Status&)> on_error)
    : op_(op),
      subtask_(subtask),
      attempt_(attempt),
      ctx_(context),
      switches_(switches),
      on_error_(std::move(on_error)),
      alive_(std::make_shared<bool>(true)) {
  // Fence earlier attempts of this sink subtask: a zombie can no longer write or commit.
  // no-fencing: the new attempt never raises the fence, and a zombie keeps writing.
  if (!switches_.no_fencing) {
    auto op_fence = std::make_unique<Op>();
    op_fence->kind = Op::Kind::kFence;
    Enqueue(std::move(op_fence));
    fence_write_ = writes_queued_;
  }
}

SinkWriter::~SinkWriter() {
  *alive_ = false;
}

std::string SinkWriter::writer() const {
  return WriterName(subtask_);
}

std::string SinkWriter::WriterName(uint32_t subtask) const {
  return op_.name + "#" + std::to_string(subtask);
}

void SinkWriter::AdoptWriters(const std::vector<uint32_t>& writers) {
  if (switches_.no_fencing) return;
  for (uint32_t w : writers) {
    auto op_fence = std::make_unique<Op>();
    op_fence->kind = Op::Kind::kFence;
    op_fence->writer = WriterName(w);
    Enqueue(std::move(op_fence));
    fence_write_ = writes_queued_;
  }
}

void SinkWriter::RestoreAdopted(const std::vector<std::pair<uint64_t, std::string>>& pending) {
  adopted_.insert(adopted_.end(), pending.begin(), pending.end());
}

std::string SinkWriter::CurrentTxn() const {
  return writer() + "/attempt-" + std::to_string(attempt_) + "/txn-" +
         std::to_string(txn_sequence_);
}

void SinkWriter::Add(const Record& record) {
  if (op_.sink.kind == SinkKind::kUpsert) {
    runtime::UpsertEntry& entry = upserts_.emplace_back();
    entry.key = record.key;
    entry.value.reserve(EncodedSize(record));
    AppendRecord(entry.value, record);
    return;
  }
  // Encoded on the stack and copied in: growing the batch by a copy does not zero-fill first.
  const size_t size = EncodedSize(record);
  if (std::array<uint8_t, 256> local; size <= local.size()) {
    EncodeRecord(local.data(), record.key, record.value, record.provenance);
    batch_.Add(std::span<const uint8_t>(local.data(), size));
    return;
  }
  batch_.AddWith([&record](Bytes& bytes) { AppendRecord(bytes, record); });
}

SinkWriter::Op* SinkWriter::WaitingBatch(OpKind kind, const std::string& txn, uint64_t bytes) {
  // The front operation is in flight once issued; what queues behind it has not been sent yet.
  if (writes_.ops.size() <= (writes_.running ? 1u : 0u)) return nullptr;
  Op& last = *writes_.ops.back();
  if (last.kind != kind || last.txn != txn || last.done) return nullptr;
  if (last.records.bytes() + bytes > kMaxWriteBytes) return nullptr;
  return &last;
}

void SinkWriter::Flush() {
  if (!upserts_.empty()) {
    // As a JDBC sink's batched upserts: one store call per flush, applied in order; a flush
    // whose call would wait behind the one in flight joins the one waiting (no byte limit:
    // upserts carry no records).
    if (Op* waiting = WaitingBatch(Op::Kind::kUpsert, "", 0)) {
      for (runtime::UpsertEntry& entry : upserts_) waiting->upserts.push_back(std::move(entry));
    } else {
      auto op = std::make_unique<Op>();
      op->kind = Op::Kind::kUpsert;
      op->upserts = std::move(upserts_);
      Enqueue(std::move(op));
    }
    upserts_.clear();
  }
  if (batch_.empty()) return;
  const bool two_phase = op_.sink.kind == SinkKind::kTwoPhaseCommit;
  const Op::Kind kind = two_phase ? Op::Kind::kWrite : Op::Kind::kAppend;
  const std::string txn = two_phase ? CurrentTxn() : std::string();
  // As Kafka's producer accumulates records while a request is in flight: a batch that would
  // wait behind the call in flight joins the batch already waiting (same transaction, up to
  // kMaxWriteBytes), so the sink sends one call per round trip, not one per input buffer.
  if (Op* waiting = WaitingBatch(kind, txn, batch_.bytes())) {
    waiting->records.AddRange(batch_, 0, batch_.size());
    batch_.clear();
    return;
  }
  auto op = std::make_unique<Op>();
  op->kind = kind;
  op->txn = txn;
  const size_t records = batch_.size();
  const uint64_t bytes = batch_.bytes();
  op->records = std::move(batch_);
  batch_.clear();
  batch_.reserve(records, bytes);  // the next batch is likely as large: grow it once
  Enqueue(std::move(op));
}

void SinkWriter::PreCommit(uint64_t checkpoint_id, std::function<void()> done) {
  Flush();
  auto op = std::make_unique<Op>();
  const bool two_phase = op_.sink.kind == SinkKind::kTwoPhaseCommit;
  if (two_phase) {
    op->kind = Op::Kind::kPreCommit;
    op->txn = CurrentTxn();
    pending_[checkpoint_id] = op->txn;
    ++txn_sequence_;  // the next records go to a new transaction
  } else {
    op->kind = Op::Kind::kAppend;  // an empty append: completes after every earlier write
  }
  op->done = std::move(done);
  Enqueue(std::move(op));
  if (two_phase) pre_commit_write_[checkpoint_id] = writes_queued_;
  if (switches_.commit_on_snapshot && two_phase) {
    // commit-on-snapshot: commit at the barrier, before the checkpoint is known complete.
    CommitUpTo(checkpoint_id);
  }
}

void SinkWriter::QueueCommitOf(uint64_t checkpoint, const std::string& txn) {
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kCommit;
  op->checkpoint = checkpoint;
  op->txn = txn;
  // Never before the transaction's own pre-commit (a restored one's was done by an earlier
  // attempt: only the fence is waited for).
  auto pre_commit = pre_commit_write_.find(checkpoint);
  op->after_writes = pre_commit != pre_commit_write_.end() ? pre_commit->second : fence_write_;
  EnqueueCommit(std::move(op));
}

void SinkWriter::CommitUpTo(uint64_t checkpoint_id) {
  if (switches_.drop_subsumed_commit) {
    // drop-subsumed-commit (FLINK-10377): commit only n's transaction; earlier pending ones
    // are forgotten.
    auto it = pending_.find(checkpoint_id);
    if (it != pending_.end()) QueueCommitOf(checkpoint_id, it->second);
    pending_.erase(pending_.begin(), pending_.upper_bound(checkpoint_id));
    pre_commit_write_.erase(pre_commit_write_.begin(),
                            pre_commit_write_.upper_bound(checkpoint_id));
    return;
  }
  // A transaction stays pending (in the sink's checkpointed state) until its commit succeeded,
  // as Flink's sinks keep a committable in their state until committed: a snapshot taken while
  // the commit waits in the queue still holds it, so a restore from that snapshot commits it
  // (or finds it committed) instead of losing it with the failed attempt's queue.
  for (auto it = pending_.upper_bound(commit_queued_up_to_);
       it != pending_.end() && it->first <= checkpoint_id; ++it) {
    commit_queued_up_to_ = it->first;
    QueueCommitOf(it->first, it->second);
  }
}

void SinkWriter::AfterQueued(std::function<void()> done) {
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kSync;
  op->after_writes = writes_queued_;
  op->done = std::move(done);
  EnqueueCommit(std::move(op));
}

void SinkWriter::RestorePending(std::map<uint64_t, std::string> pending) {
  pending_ = std::move(pending);
  pre_commit_write_.clear();
  commit_queued_up_to_ = 0;
}

void SinkWriter::RecoverUpTo(uint64_t checkpoint_id) {
  // An adopted writer's transaction acts as that writer (the store's Lookup answers only the
  // owner); the name says whose it is: "<sink>#<subtask>/attempt-<a>/txn-<n>".
  for (const auto& [checkpoint, txn] : adopted_) {
    if (checkpoint > checkpoint_id) continue;
    auto op = std::make_unique<Op>();
    op->kind = switches_.recommit_after_restore ? Op::Kind::kCommit : Op::Kind::kRecover;
    op->checkpoint = checkpoint;
    op->txn = txn;
    op->writer = txn.substr(0, txn.find("/attempt-"));
    op->after_writes = fence_write_;
    EnqueueCommit(std::move(op));
  }
  adopted_.clear();
  if (switches_.recommit_after_restore) {
    // recommit-after-restore (FLINK-8086): commit every restored transaction again, whether or
    // not it was committed before the failure.
    CommitUpTo(checkpoint_id);
    return;
  }
  for (auto it = pending_.upper_bound(commit_queued_up_to_);
       it != pending_.end() && it->first <= checkpoint_id; ++it) {
    auto op = std::make_unique<Op>();
    op->kind = Op::Kind::kRecover;
    op->checkpoint = it->first;
    op->txn = it->second;
    op->after_writes = fence_write_;
    commit_queued_up_to_ = it->first;
    EnqueueCommit(std::move(op));
  }
}

void SinkWriter::Enqueue(std::unique_ptr<Op> op) {
  writes_.ops.push_back(std::move(op));
  ++writes_queued_;
  if (!writes_.running) RunNext(writes_);
}

void SinkWriter::EnqueueCommit(std::unique_ptr<Op> op) {
  commits_.ops.push_back(std::move(op));
  if (!commits_.running) RunNext(commits_);
}

void SinkWriter::FinishOp(Lane& lane, Status status) {
  std::unique_ptr<Op> done_op = std::move(lane.ops.front());
  lane.ops.pop_front();
  lane.running = false;
  if (failed_) return;
  if (!status.ok()) {
    failed_ = true;
    on_error_(status.WithContext("sink " + writer()));
    return;
  }
  if (done_op->kind == Op::Kind::kCommit || done_op->kind == Op::Kind::kRecover) {
    auto it = pending_.find(done_op->checkpoint);
    if (it != pending_.end() && it->second == done_op->txn) {
      pending_.erase(it);
      pre_commit_write_.erase(done_op->checkpoint);
    }
  }
  if (&lane == &writes_) ++writes_done_;
  if (done_op->done) done_op->done();
  RunNext(lane);
  // A write done may be what the commit lane's next operation waits for.
  if (&lane == &writes_ && !commits_.running) RunNext(commits_);
}

void SinkWriter::RunNext(Lane& lane) {
  if (failed_ || lane.running || lane.ops.empty()) return;
  Op& op = *lane.ops.front();
  if (op.after_writes > writes_done_) return;  // resumed when that write is done
  lane.running = true;
  Issue(lane, op);
}

void SinkWriter::Issue(Lane& lane, Op& op) {
  const runtime::WriterEpoch who{op.writer.empty() ? writer() : op.writer, attempt_};
  auto finish = [this, &lane, alive = alive_](Status status) {
    if (*alive) FinishOp(lane, std::move(status));
  };
  runtime::OutputStore& store = *ctx_.output_store;
  switch (op.kind) {
    case Op::Kind::kFence:
      store.Fence(who, std::move(finish));
      break;
    case Op::Kind::kAppend:
      store.Append(who, std::move(op.records), std::move(finish));
      break;
    case Op::Kind::kWrite:
      store.Write(who, op.txn, std::move(op.records), std::move(finish));
      break;
    case Op::Kind::kPreCommit:
      store.PreCommit(who, op.txn, std::move(finish));
      break;
    case Op::Kind::kCommit:
      store.Commit(who, op.txn, std::move(finish));
      break;
    case Op::Kind::kRecover:
      store.Lookup(
          who, op.txn,
          [this, &op, finish, alive = alive_](Result<runtime::TxnStatus> status) mutable {
            if (!*alive) return;
            if (!status.ok()) return finish(status.status());
            switch (*status) {
              case runtime::TxnStatus::kCommitted:
                return finish(Status::Ok());  // committed before the failure
              case runtime::TxnStatus::kOpen:
              case runtime::TxnStatus::kPreCommitted:
                ctx_.output_store->Commit({op.writer.empty() ? writer() : op.writer, attempt_},
                                          op.txn, std::move(finish));
                return;
              case runtime::TxnStatus::kExpired:
                // The store's transaction timeout aborted it (FLINK-7784): its records are lost.
                // As Flink's FlinkKafkaProducer (ignoreFailuresAfterTransactionTimeout), the sink
                // reports the loss and goes on instead of failing every restart.
                ctx_.events->Record(MakeEvent(EngineEvent::kTransactionExpired, op.txn,
                                              {.checkpoint = static_cast<int64_t>(op.checkpoint)}));
                return finish(Status::Ok());
              case runtime::TxnStatus::kUnknown:
              case runtime::TxnStatus::kAborted:
                break;
            }
            finish(DataLossError("transaction " + op.txn +
                                 " of a completed checkpoint is gone from the store"));
          });
      break;
    case Op::Kind::kUpsert:
      store.Upsert(who, std::move(op.upserts), std::move(finish));
      break;
    case Op::Kind::kSync:
      finish(Status::Ok());
      break;
  }
}

// --- the chain ------------------------------------------------------------------------------

ChainRunner::ChainRunner(const JobGraph& job, const ChainSpec& chain, uint32_t subtask,
                         uint64_t attempt, KeyedStateBackend* backend,
                         runtime::ProcessContext& context, const TeachingSwitches& switches,
                         std::function<void(const Record&)> emit,
                         std::function<void(const Status&)> on_error)
    : emit_(std::move(emit)) {
  for (uint32_t i = chain.first_operator; i <= chain.last_operator; ++i) {
    const OperatorSpec& op = job.operators[i];
    if (op.kind == OperatorKind::kSource) continue;  // the task reads; the chain starts after
    stages_.push_back(&op);
    if (op.kind == OperatorKind::kKeyedProcess) {
      FL_ASSERT(backend != nullptr && keyed_ == nullptr, "one keyed operator per chain");
      keyed_ = std::make_unique<Keyed>(backend, op.max_parallelism);
    }
    if (op.kind == OperatorKind::kSink) {
      sink_ = std::make_unique<SinkWriter>(op, subtask, attempt, context, switches, on_error);
    }
  }
}

ChainRunner::~ChainRunner() = default;

void ChainRunner::Process(const Record& record) {
  RunFrom(0, record);
}

void ChainRunner::RunFrom(size_t stage, const Record& record) {
  if (stage == stages_.size()) {
    emit_(record);
    return;
  }
  const OperatorSpec& op = *stages_[stage];
  switch (op.kind) {
    case OperatorKind::kMap: {
      Record out = op.map(record);
      if (out.provenance.count == 0) out.provenance = record.provenance;
      RunFrom(stage + 1, out);
      return;
    }
    case OperatorKind::kFilter:
      if (op.filter(record)) RunFrom(stage + 1, record);
      return;
    case OperatorKind::kFlatMap: {
      struct Forward : Collector {
        ChainRunner* runner;
        size_t next;
        Provenance provenance;
        bool first = true;
        void Emit(Record r) override {
          if (r.provenance.count == 0 && first) r.provenance = provenance;
          first = false;
          runner->RunFrom(next, r);
        }
      } collector;
      collector.runner = this;
      collector.next = stage + 1;
      collector.provenance = record.provenance;
      op.flat_map(record, collector);
      return;
    }
    case OperatorKind::kKeyedProcess:
      keyed_->Run(op, record, this, stage + 1);
      return;
    case OperatorKind::kSink:
      sink_->Add(record);
      return;
    case OperatorKind::kSource:
      break;
  }
  FL_UNREACHABLE("a source inside a chain");
}

void ChainRunner::Flush() {
  if (sink_) sink_->Flush();
}

}  // namespace faultline::engine
