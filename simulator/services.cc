#include "simulator/services.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "base/assert.h"
#include "base/int128.h"
#include "simulator/world.h"

namespace faultline::sim {

ServiceBase::ServiceBase(World* world, Service service, ServiceLatency latency,
                         std::string_view rng_name)
    : world_(world), service_(service), latency_(latency), rng_(world->ForkRng(rng_name)) {}

ServiceBase::Call ServiceBase::Begin(uint32_t caller, ServiceOp op, FaultPoint point,
                                     std::string_view target, uint64_t bytes) {
  Call call{next_request_++, Duration::Zero(), {}};
  world_->Record(TraceKind::kServiceRequest, caller,
                 {static_cast<int64_t>(service_), static_cast<int64_t>(op),
                  static_cast<int64_t>(call.request), static_cast<int64_t>(bytes)},
                 target);
  call.delay = latency_.latency_min + rng_.ExponentialDuration(latency_.latency_exponential_mean);
  if (latency_.bandwidth_bytes_per_second > 0) {
    call.delay += Duration::Nanos(static_cast<int64_t>(static_cast<Int128>(bytes) * 1'000'000'000 /
                                                       latency_.bandwidth_bytes_per_second));
  }
  if (!world_->faults().empty()) {
    call.fault = world_->faults().Check(FaultSite{point, world_->now(), caller, 0xffffffffu, target,
                                                  bytes, ServiceOpName(static_cast<int64_t>(op))},
                                        world_->Incarnation(caller));
    call.delay += call.fault.extra_delay;
  }
  return call;
}

void ServiceBase::RecordReply(uint32_t caller, uint32_t caller_incarnation, ServiceOp op,
                              uint64_t request, const Status& status, std::string_view target) {
  world_->trace().Record(world_->now(), TraceKind::kServiceReply, caller, caller_incarnation,
                         {static_cast<int64_t>(service_), static_cast<int64_t>(op),
                          static_cast<int64_t>(request), static_cast<int64_t>(status.code())},
                         target);
}

namespace {

template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}
inline const Status& StatusOf(const Status& s) {
  return s;
}

}  // namespace

template <typename T, typename Apply>
void ServiceBase::Finish(uint32_t caller, ServiceOp op, const Call& call, std::string target,
                         Apply apply, Callback<T> done) {
  struct Pending {
    Apply apply;
    Callback<T> done;
    std::string target;
    std::optional<T> result;
  };
  auto pending = std::make_unique<Pending>(
      Pending{std::move(apply), std::move(done), std::move(target), std::nullopt});
  const EventOwner owner = world_->OwnerOf(caller);
  const uint64_t request = call.request;
  world_->loop().ScheduleAfter(call.delay, [this, owner, op, request,
                                            pending = std::move(pending)]() mutable {
    pending->result.emplace(pending->apply());
    RecordReply(owner.node, owner.incarnation, op, request, StatusOf(*pending->result),
                pending->target);
    world_->loop().Schedule(
        world_->now(),
        [pending = std::move(pending)]() mutable { pending->done(std::move(*pending->result)); },
        owner);
  });
}

// --- blob store -----------------------------------------------------------------------------

BlobStoreSim::BlobStoreSim(World* world, ServiceLatency latency)
    : ServiceBase(world, Service::kBlobStore, latency, "blob-store") {}

const Bytes* BlobStoreSim::Peek(std::string_view name) const {
  auto it = objects_.find(name);
  return it == objects_.end() ? nullptr : &it->second;
}

void BlobStoreSim::Put(uint32_t caller, std::string name, Bytes data, Callback<Status> done) {
  const Call call = Begin(caller, ServiceOp::kPut, FaultPoint::kBlobPut, name, data.size());
  const uint64_t flip_at = data.empty() ? 0 : rng_.UniformU64(data.size());
  std::string target = name;
  Finish<Status>(
      caller, ServiceOp::kPut, call, std::move(target),
      [this, name = std::move(name), data = std::move(data), fault = call.fault,
       flip_at]() mutable -> Status {
        if (!fault.error.ok()) return fault.error;
        Store(std::move(name), std::move(data), fault, flip_at);
        return Status::Ok();
      },
      std::move(done));
}

void BlobStoreSim::Store(std::string name, Bytes data, const FaultEffect& fault, uint64_t flip_at) {
  const Time now = world_->now();
  if (fault.lose) {  // acknowledged, never visible
    history_.archive.emplace(name, ArchivedBlob{std::move(data), now, now, BlobFate::kLost});
    return;
  }
  const bool corrupt = fault.corrupt && !data.empty();
  if (corrupt || fault.torn) {
    history_.archive.emplace(
        name, ArchivedBlob{data, now, now, fault.torn ? BlobFate::kTorn : BlobFate::kCorrupted});
  }
  if (corrupt) {
    const uint64_t at = fault.corrupt_from_end && *fault.corrupt_from_end < data.size()
                            ? data.size() - 1 - *fault.corrupt_from_end
                            : flip_at;
    data[at] ^= 0x01;
  }
  if (fault.torn) data.resize(flip_at);  // a strict prefix (possibly empty) is stored
  Retire(name, BlobFate::kOverwritten);
  if (corrupt || fault.torn) history_.altered.insert(name);
  put_at_.insert_or_assign(name, now);
  objects_.insert_or_assign(std::move(name), std::move(data));  // whole, atomically
}

void BlobStoreSim::Retire(const std::string& name, BlobFate fate) {
  auto it = objects_.find(name);
  if (it == objects_.end()) return;
  auto altered = history_.altered.find(name);
  if (altered != history_.altered.end()) {
    history_.altered.erase(altered);
  } else {
    history_.archive.emplace(
        name, ArchivedBlob{std::move(it->second), put_at_.at(name), world_->now(), fate});
  }
  objects_.erase(it);
}

void BlobStoreSim::Get(uint32_t caller, std::string name, Callback<Result<Bytes>> done) {
  const Call call = Begin(caller, ServiceOp::kGet, FaultPoint::kBlobGet, name, 0);
  const uint64_t flip_seed = rng_.NextU64();
  std::string target = name;
  Finish<Result<Bytes>>(
      caller, ServiceOp::kGet, call, std::move(target),
      [this, name = std::move(name), fault = call.fault, flip_seed]() -> Result<Bytes> {
        if (!fault.error.ok()) return fault.error;
        auto it = objects_.find(name);
        if (it == objects_.end()) return NotFoundError("blob " + name + " does not exist");
        Bytes copy = it->second;
        if (fault.corrupt && !copy.empty()) copy[flip_seed % copy.size()] ^= 0x01;
        return copy;
      },
      std::move(done));
}

void BlobStoreSim::Delete(uint32_t caller, std::string name, Callback<Status> done) {
  const Call call = Begin(caller, ServiceOp::kDelete, FaultPoint::kBlobDelete, name, 0);
  std::string target = name;
  Finish<Status>(
      caller, ServiceOp::kDelete, call, std::move(target),
      [this, name = std::move(name), fault = call.fault]() -> Status {
        if (!fault.error.ok()) return fault.error;
        Retire(name, BlobFate::kDeleted);  // deleting a missing blob succeeds, as in S3
        put_at_.erase(name);
        return Status::Ok();
      },
      std::move(done));
}

void BlobStoreSim::List(uint32_t caller, std::string prefix,
                        Callback<Result<std::vector<std::string>>> done) {
  const Call call = Begin(caller, ServiceOp::kList, FaultPoint::kBlobList, prefix, 0);
  std::string target = prefix;
  Finish<Result<std::vector<std::string>>>(
      caller, ServiceOp::kList, call, std::move(target),
      [this, prefix = std::move(prefix), fault = call.fault]() -> Result<std::vector<std::string>> {
        if (!fault.error.ok()) return fault.error;
        std::vector<std::string> names;
        for (auto it = objects_.lower_bound(prefix); it != objects_.end(); ++it) {
          if (it->first.compare(0, prefix.size(), prefix) != 0) break;
          if (fault.stale_by) {
            // A stale listing: as of `stale_by` ago, objects put since are missing.
            auto put = put_at_.find(it->first);
            if (put != put_at_.end() && put->second > world_->now() - *fault.stale_by) continue;
          }
          names.push_back(it->first);
        }
        return names;
      },
      std::move(done));
}

// --- HA store -------------------------------------------------------------------------------

HaStoreSim::HaStoreSim(World* world, ServiceLatency latency)
    : ServiceBase(world, Service::kHaStore, latency, "ha-store") {}

runtime::VersionedValue HaStoreSim::Peek(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? runtime::VersionedValue{} : it->second;
}

void HaStoreSim::Read(uint32_t caller, std::string key,
                      Callback<Result<runtime::VersionedValue>> done) {
  const Call call = Begin(caller, ServiceOp::kRead, FaultPoint::kHaRead, key, 0);
  std::string target = key;
  Finish<Result<runtime::VersionedValue>>(
      caller, ServiceOp::kRead, call, std::move(target),
      [this, key = std::move(key), fault = call.fault]() -> Result<runtime::VersionedValue> {
        if (!fault.error.ok()) return fault.error;
        return Peek(key);
      },
      std::move(done));
}

void HaStoreSim::CompareAndSet(uint32_t caller, std::string key, uint64_t expected_version,
                               Bytes value, Callback<Result<uint64_t>> done) {
  const Call call =
      Begin(caller, ServiceOp::kCompareAndSet, FaultPoint::kHaWrite, key, value.size());
  std::string target = key;
  Finish<Result<uint64_t>>(
      caller, ServiceOp::kCompareAndSet, call, std::move(target),
      [this, key = std::move(key), expected_version, value = std::move(value),
       fault = call.fault]() mutable -> Result<uint64_t> {
        if (!fault.error.ok()) return fault.error;
        runtime::VersionedValue& entry = entries_[key];
        if (entry.version != expected_version) {
          return AbortedError("HA key " + key + " is at version " + std::to_string(entry.version) +
                              ", expected " + std::to_string(expected_version));
        }
        entry.version += 1;
        entry.value = std::move(value);
        return entry.version;
      },
      std::move(done));
}

// --- source log -----------------------------------------------------------------------------

SourceLogSim::SourceLogSim(World* world, ServiceLatency latency)
    : ServiceBase(world, Service::kSourceLog, latency, "source-log") {}

void SourceLogSim::AddPartitions(uint32_t count) {
  partitions_.resize(partitions_.size() + count);
}

uint64_t SourceLogSim::AppendRecord(uint32_t partition, std::span<const uint8_t> payload) {
  FL_ASSERT(partition < partitions_.size());
  runtime::RecordBatch& records = partitions_[partition];
  const uint64_t offset = records.size();
  records.Add(payload);
  return offset;
}

void SourceLogSim::Read(uint32_t caller, uint32_t partition, uint64_t offset, uint32_t max_records,
                        Callback<Result<runtime::LogBatch>> done) {
  std::string target = "partition-" + std::to_string(partition) + "@" + std::to_string(offset);
  const Call call = Begin(caller, ServiceOp::kLogRead, FaultPoint::kLogRead, target, 0);
  Finish<Result<runtime::LogBatch>>(
      caller, ServiceOp::kLogRead, call, std::move(target),
      [this, partition, offset, max_records, fault = call.fault]() -> Result<runtime::LogBatch> {
        if (!fault.error.ok()) return fault.error;
        if (partition >= partitions_.size()) {
          return NotFoundError("source log has no partition " + std::to_string(partition));
        }
        const runtime::RecordBatch& records = partitions_[partition];
        if (offset > records.size()) {
          return OutOfRangeError("offset " + std::to_string(offset) + " is past the end (" +
                                 std::to_string(records.size()) + ") of partition " +
                                 std::to_string(partition));
        }
        runtime::LogBatch out;
        out.first_offset = offset;
        out.records.AddRange(records, offset,
                             std::min<uint64_t>(max_records, records.size() - offset));
        return out;
      },
      std::move(done));
}

void SourceLogSim::EndOffset(uint32_t caller, uint32_t partition, Callback<Result<uint64_t>> done) {
  std::string target = "partition-" + std::to_string(partition);
  const Call call = Begin(caller, ServiceOp::kEndOffset, FaultPoint::kLogRead, target, 0);
  Finish<Result<uint64_t>>(
      caller, ServiceOp::kEndOffset, call, std::move(target),
      [this, partition, fault = call.fault]() -> Result<uint64_t> {
        if (!fault.error.ok()) return fault.error;
        if (partition >= partitions_.size()) {
          return NotFoundError("source log has no partition " + std::to_string(partition));
        }
        return static_cast<uint64_t>(partitions_[partition].size());
      },
      std::move(done));
}

// --- output store ---------------------------------------------------------------------------

OutputStoreSim::OutputStoreSim(World* world, ServiceLatency latency, Duration transaction_timeout)
    : ServiceBase(world, Service::kOutputStore, latency, "output-store"),
      transaction_timeout_(transaction_timeout) {}

std::optional<TxnState> OutputStoreSim::StateOf(std::string_view txn) const {
  auto it = txns_.find(txn);
  if (it == txns_.end()) return std::nullopt;
  if (PastTimeout(it->second, world_->now())) return TxnState::kAborted;
  return it->second.state;
}

bool OutputStoreSim::Expired(std::string_view txn) const {
  auto it = txns_.find(txn);
  return it != txns_.end() && (it->second.expired || PastTimeout(it->second, world_->now()));
}

bool OutputStoreSim::PastTimeout(const Txn& t, Time now) const {
  return transaction_timeout_ > Duration::Zero() &&
         (t.state == TxnState::kOpen || t.state == TxnState::kPreCommitted) &&
         now - t.opened_at > transaction_timeout_;
}

Status OutputStoreSim::ExpireIfDue(std::string_view name, Txn& t) {
  if (PastTimeout(t, world_->now())) {
    t.state = TxnState::kAborted;
    t.expired = true;
    t.writes.clear();
  }
  if (!t.expired) return Status::Ok();
  return DeadlineExceededError(
      "transaction " + std::string(name) + " opened at " + (t.opened_at - Time::Zero()).ToString() +
      " outlived the output store's transaction timeout " + transaction_timeout_.ToString() +
      " (Kafka's transaction.timeout.ms): the store aborted it and "
      "its records are lost");
}

std::vector<OutputRecord> OutputStoreSim::visible() const {
  std::vector<OutputRecord> out;
  out.reserve(visible_count_);
  for (const VisibleBatch& batch : visible_) {
    for (size_t i = 0; i < batch.records->size(); ++i) {
      out.push_back(OutputRecord{batch.kind, batch.writer, batch.epoch, batch.txn, batch.key,
                                 (*batch.records)[i], batch.visible_at});
    }
  }
  return out;
}

void OutputStoreSim::Publish(VisibleBatch batch) {
  visible_count_ += batch.records->size();
  visible_.push_back(std::move(batch));
}

Status OutputStoreSim::CheckFence(const WriterEpoch& who) const {
  auto it = fences_.find(who.writer);
  if (it != fences_.end() && who.epoch < it->second) {
    return AbortedError("writer " + who.writer + " epoch " + std::to_string(who.epoch) +
                        " is fenced by epoch " + std::to_string(it->second));
  }
  return Status::Ok();
}

void OutputStoreSim::Fence(uint32_t caller, WriterEpoch who, Callback<Status> done) {
  requesting_epoch_ = who.epoch;  // read by EpochOfRequest while Begin records
  const Call call = Begin(caller, ServiceOp::kFence, FaultPoint::kOutputWrite, who.writer, 0);
  requesting_epoch_.reset();
  std::string target = who.writer;
  Finish<Status>(
      caller, ServiceOp::kFence, call, std::move(target),
      [this, who = std::move(who), fault = call.fault]() -> Status {
        if (!fault.error.ok()) return fault.error;
        uint64_t& fence = fences_[who.writer];
        if (who.epoch > fence) fence = who.epoch;
        // As Kafka's initTransactions: the writer's transactions still open from earlier epochs
        // are aborted (a failed attempt's unfinished output never becomes visible). Pre-committed
        // ones stay: they may belong to a completed checkpoint the successor commits.
        for (auto& [name, t] : txns_) {
          if (t.writer == who.writer && t.epoch < who.epoch && t.state == TxnState::kOpen) {
            t.state = TxnState::kAborted;
            t.writes.clear();
          }
        }
        return Status::Ok();
      },
      std::move(done));
}

void OutputStoreSim::Write(uint32_t caller, WriterEpoch who, std::string txn, RecordBatch records,
                           Callback<Status> done) {
  requesting_epoch_ = who.epoch;  // read by EpochOfRequest while Begin records
  const Call call =
      Begin(caller, ServiceOp::kTxnWrite, FaultPoint::kOutputWrite, txn, records.bytes());
  requesting_epoch_.reset();
  std::string target = txn;
  Finish<Status>(
      caller, ServiceOp::kTxnWrite, call, std::move(target),
      [this, who = std::move(who), txn = std::move(txn), records = std::move(records),
       fault = call.fault]() mutable -> Status {
        if (!fault.error.ok()) return fault.error;
        FL_RETURN_IF_ERROR(CheckFence(who));
        auto [it, inserted] = txns_.try_emplace(txn);
        Txn& t = it->second;
        if (inserted) {
          t.writer = who.writer;
          t.epoch = who.epoch;
          t.opened_at = world_->now();
        } else if (t.writer != who.writer) {
          return FailedPreconditionError("transaction " + txn + " belongs to writer " + t.writer);
        }
        FL_RETURN_IF_ERROR(ExpireIfDue(txn, t));
        if (t.state != TxnState::kOpen) {
          return FailedPreconditionError("transaction " + txn + " is closed for writes");
        }
        if (!records.empty()) {
          t.writes.push_back(std::make_shared<const RecordBatch>(std::move(records)));
        }
        return Status::Ok();
      },
      std::move(done));
}

void OutputStoreSim::PreCommit(uint32_t caller, WriterEpoch who, std::string txn,
                               Callback<Status> done) {
  requesting_epoch_ = who.epoch;  // read by EpochOfRequest while Begin records
  const Call call = Begin(caller, ServiceOp::kPreCommit, FaultPoint::kOutputWrite, txn, 0);
  requesting_epoch_.reset();
  std::string target = txn;
  Finish<Status>(
      caller, ServiceOp::kPreCommit, call, std::move(target),
      [this, who = std::move(who), txn = std::move(txn), fault = call.fault]() -> Status {
        if (!fault.error.ok()) return fault.error;
        FL_RETURN_IF_ERROR(CheckFence(who));
        auto [it, inserted] = txns_.try_emplace(txn);  // an empty transaction is valid
        Txn& t = it->second;
        if (inserted) {
          t.writer = who.writer;
          t.epoch = who.epoch;
          t.opened_at = world_->now();
        }
        FL_RETURN_IF_ERROR(ExpireIfDue(txn, t));
        if (t.state == TxnState::kOpen) t.state = TxnState::kPreCommitted;
        if (t.state == TxnState::kAborted) {
          return FailedPreconditionError("transaction " + txn + " was aborted");
        }
        return Status::Ok();
      },
      std::move(done));
}

void OutputStoreSim::Commit(uint32_t caller, WriterEpoch who, std::string txn,
                            Callback<Status> done) {
  requesting_epoch_ = who.epoch;  // read by EpochOfRequest while Begin records
  const Call call = Begin(caller, ServiceOp::kCommit, FaultPoint::kOutputWrite, txn, 0);
  requesting_epoch_.reset();
  std::string target = txn;
  Finish<Status>(
      caller, ServiceOp::kCommit, call, std::move(target),
      [this, who = std::move(who), txn = std::move(txn), fault = call.fault]() -> Status {
        if (!fault.error.ok()) return fault.error;
        FL_RETURN_IF_ERROR(CheckFence(who));
        auto it = txns_.find(txn);
        if (it == txns_.end()) return NotFoundError("no transaction " + txn);
        Txn& t = it->second;
        FL_RETURN_IF_ERROR(ExpireIfDue(txn, t));
        switch (t.state) {
          case TxnState::kCommitted:
            ++commits_repeated_;  // not deduplicated: published again
            break;
          case TxnState::kAborted:
            return NotFoundError("transaction " + txn + " was aborted");
          case TxnState::kOpen:
          case TxnState::kPreCommitted:
            break;
        }
        t.state = TxnState::kCommitted;
        for (const std::shared_ptr<const RecordBatch>& records : t.writes) {
          Publish({OutputRecord::Kind::kTransactional,
                   t.writer,
                   who.epoch,
                   txn,
                   {},
                   records,
                   world_->now()});
        }
        return Status::Ok();
      },
      std::move(done));
}

void OutputStoreSim::Lookup(uint32_t caller, WriterEpoch who, std::string txn,
                            Callback<Result<runtime::TxnStatus>> done) {
  requesting_epoch_ = who.epoch;  // read by EpochOfRequest while Begin records
  const Call call = Begin(caller, ServiceOp::kLookup, FaultPoint::kOutputRead, txn, 0);
  requesting_epoch_.reset();
  std::string target = txn;
  Finish<Result<runtime::TxnStatus>>(
      caller, ServiceOp::kLookup, call, std::move(target),
      [this, who = std::move(who), txn = std::move(txn),
       fault = call.fault]() -> Result<runtime::TxnStatus> {
        if (!fault.error.ok()) return fault.error;
        auto it = txns_.find(txn);
        if (it == txns_.end()) return runtime::TxnStatus::kUnknown;
        if (it->second.writer != who.writer) {
          return FailedPreconditionError("transaction " + txn + " belongs to writer " +
                                         it->second.writer);
        }
        if (!ExpireIfDue(txn, it->second).ok()) return runtime::TxnStatus::kExpired;
        switch (it->second.state) {
          case TxnState::kOpen:
            return runtime::TxnStatus::kOpen;
          case TxnState::kPreCommitted:
            return runtime::TxnStatus::kPreCommitted;
          case TxnState::kCommitted:
            return runtime::TxnStatus::kCommitted;
          case TxnState::kAborted:
            return runtime::TxnStatus::kAborted;
        }
        return runtime::TxnStatus::kUnknown;
      },
      std::move(done));
}

void OutputStoreSim::Abort(uint32_t caller, WriterEpoch who, std::string txn,
                           Callback<Status> done) {
  requesting_epoch_ = who.epoch;  // read by EpochOfRequest while Begin records
  const Call call = Begin(caller, ServiceOp::kAbort, FaultPoint::kOutputWrite, txn, 0);
  requesting_epoch_.reset();
  std::string target = txn;
  Finish<Status>(
      caller, ServiceOp::kAbort, call, std::move(target),
      [this, who = std::move(who), txn = std::move(txn), fault = call.fault]() -> Status {
        if (!fault.error.ok()) return fault.error;
        // A fenced writer's successor aborts its predecessor's transactions, so no fence check;
        // but only the owning writer may abort.
        auto it = txns_.find(txn);
        if (it == txns_.end()) return Status::Ok();
        Txn& t = it->second;
        if (t.writer != who.writer) {
          return FailedPreconditionError("transaction " + txn + " belongs to writer " + t.writer);
        }
        if (t.state == TxnState::kCommitted) {
          return FailedPreconditionError("transaction " + txn + " is already committed");
        }
        (void)ExpireIfDue(txn, t);  // aborting an expired transaction is no error
        t.state = TxnState::kAborted;
        t.writes.clear();
        return Status::Ok();
      },
      std::move(done));
}

void OutputStoreSim::Append(uint32_t caller, WriterEpoch who, RecordBatch records,
                            Callback<Status> done) {
  requesting_epoch_ = who.epoch;  // read by EpochOfRequest while Begin records
  const Call call =
      Begin(caller, ServiceOp::kAppend, FaultPoint::kOutputWrite, who.writer, records.bytes());
  requesting_epoch_.reset();
  std::string target = who.writer;
  Finish<Status>(
      caller, ServiceOp::kAppend, call, std::move(target),
      [this, who = std::move(who), records = std::move(records),
       fault = call.fault]() mutable -> Status {
        if (!fault.error.ok()) return fault.error;
        FL_RETURN_IF_ERROR(CheckFence(who));
        if (records.empty()) return Status::Ok();
        Publish({OutputRecord::Kind::kAppend,
                 who.writer,
                 who.epoch,
                 {},
                 {},
                 std::make_shared<const RecordBatch>(std::move(records)),
                 world_->now()});
        return Status::Ok();
      },
      std::move(done));
}

void OutputStoreSim::Upsert(uint32_t caller, WriterEpoch who,
                            std::vector<runtime::UpsertEntry> entries, Callback<Status> done) {
  uint64_t bytes = 0;
  for (const runtime::UpsertEntry& e : entries) bytes += e.key.size() + e.value.size();
  requesting_epoch_ = who.epoch;  // read by EpochOfRequest while Begin records
  const Call call = Begin(caller, ServiceOp::kUpsert, FaultPoint::kOutputWrite, who.writer, bytes);
  requesting_epoch_.reset();
  std::string target = who.writer;
  Finish<Status>(
      caller, ServiceOp::kUpsert, call, std::move(target),
      [this, who = std::move(who), entries = std::move(entries),
       fault = call.fault]() mutable -> Status {
        if (!fault.error.ok()) return fault.error;
        FL_RETURN_IF_ERROR(CheckFence(who));
        for (runtime::UpsertEntry& e : entries) {
          table_.insert_or_assign(e.key, e.value);
          auto record = std::make_shared<RecordBatch>();
          record->Add(e.value);
          Publish({OutputRecord::Kind::kUpsert,
                   who.writer,
                   who.epoch,
                   {},
                   std::move(e.key),
                   std::move(record),
                   world_->now()});
        }
        return Status::Ok();
      },
      std::move(done));
}

}  // namespace faultline::sim
