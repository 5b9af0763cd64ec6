// The shared services of the simulated world, outside every node's failure domain: the blob
// store (checkpoint storage), the HA store (coordinator metadata), the source log (a Kafka-like
// partitioned log) and the output store (transactional sink target). Each call is asynchronous:
// it takes a sampled latency, is applied atomically at the service, and its reply is delivered
// to the caller's incarnation (dropped if the caller crashed meanwhile; the effect stays).
// Requests are independent, like separate HTTP requests: two in flight at once may be applied
// in either order, so a caller that needs order waits for each reply.
//
// Checkers read their contents through the side-channel accessors, which record nothing.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/rng.h"
#include "base/time.h"
#include "engine/runtime/external.h"
#include "engine/runtime/storage.h"
#include "simulator/fault_points.h"
#include "simulator/trace_kinds.h"

namespace faultline::sim {

class World;
using runtime::Bytes;
template <typename T>
using Callback = runtime::Callback<T>;

struct ServiceLatency {
  Duration latency_min = Duration::Millis(1);
  Duration latency_exponential_mean = Duration::Millis(2);
  int64_t bandwidth_bytes_per_second = 0;  // 0: size does not matter
};

// Common plumbing: request ids, latency, tracing, fault checks and reply delivery.
class ServiceBase {
 protected:
  ServiceBase(World* world, Service service, ServiceLatency latency, std::string_view rng_name);

  struct Call {
    uint64_t request;
    Duration delay;
    FaultEffect fault;
  };
  // Records the request, consults the fault point, and samples the latency.
  Call Begin(uint32_t caller, ServiceOp op, FaultPoint point, std::string_view target,
             uint64_t bytes);
  // Applies `apply` at the service after `call.delay`, records the reply, then delivers the
  // result to the caller's current incarnation.
  template <typename T, typename Apply>
  void Finish(uint32_t caller, ServiceOp op, const Call& call, std::string target, Apply apply,
              Callback<T> done);
  void RecordReply(uint32_t caller, uint32_t caller_incarnation, ServiceOp op, uint64_t request,
                   const Status& status, std::string_view target);

  World* world_;
  Service service_;
  ServiceLatency latency_;
  Rng rng_;
  uint64_t next_request_ = 1;
};

// The blob store's tombstone view, for the checkers (side channel): every version of a blob the
// engine sent that the store no longer holds as sent. A deleted or overwritten blob's bytes move
// here (no copy) with the time; a put an injected fault lost, corrupted or tore leaves here the
// bytes as the engine sent them (a copy, for corrupted and torn puts only). Filling it draws no
// random number and records nothing: it never changes a trace.
enum class BlobFate { kDeleted, kOverwritten, kLost, kCorrupted, kTorn };
struct ArchivedBlob {
  Bytes bytes;   // as the engine sent them
  Time put_at;   // when the put was applied
  Time gone_at;  // when it was deleted or overwritten; put_at when a fault altered the put
  BlobFate fate = BlobFate::kDeleted;
};
struct BlobHistory {
  // Name -> versions, in the order they left the store (or never reached it as sent).
  std::multimap<std::string, ArchivedBlob, std::less<>> archive;
  // Names whose stored bytes are not what the engine last sent there (a fault corrupted or
  // tore the last put, whose bytes as sent are in `archive`).
  std::set<std::string, std::less<>> altered;
};

class BlobStoreSim : public ServiceBase {
 public:
  BlobStoreSim(World* world, ServiceLatency latency);
  void Put(uint32_t caller, std::string name, Bytes data, Callback<Status> done);
  void Get(uint32_t caller, std::string name, Callback<Result<Bytes>> done);
  void Delete(uint32_t caller, std::string name, Callback<Status> done);
  void List(uint32_t caller, std::string prefix, Callback<Result<std::vector<std::string>>> done);

  // Side channel.
  const std::map<std::string, Bytes, std::less<>>& objects() const { return objects_; }
  const Bytes* Peek(std::string_view name) const;
  const BlobHistory& history() const { return history_; }

 private:
  // Moves the stored version of `name`, if any, into the archive (dropped instead when a fault
  // altered it: its bytes as sent are archived already).
  void Retire(const std::string& name, BlobFate fate);
  void Store(std::string name, Bytes data, const FaultEffect& fault, uint64_t flip_at);

  std::map<std::string, Bytes, std::less<>> objects_;
  std::map<std::string, Time, std::less<>> put_at_;  // when each object was last put
  BlobHistory history_;
};

class HaStoreSim : public ServiceBase {
 public:
  HaStoreSim(World* world, ServiceLatency latency);
  void Read(uint32_t caller, std::string key, Callback<Result<runtime::VersionedValue>> done);
  void CompareAndSet(uint32_t caller, std::string key, uint64_t expected_version, Bytes value,
                     Callback<Result<uint64_t>> done);

  // Side channel.
  runtime::VersionedValue Peek(std::string_view key) const;

 private:
  std::map<std::string, runtime::VersionedValue, std::less<>> entries_;
};

class SourceLogSim : public ServiceBase {
 public:
  SourceLogSim(World* world, ServiceLatency latency);
  // Set-up, not traced: the log's contents are part of the scenario.
  void AddPartitions(uint32_t count);
  uint64_t AppendRecord(uint32_t partition, std::span<const uint8_t> payload);

  uint32_t PartitionCount() const { return static_cast<uint32_t>(partitions_.size()); }
  void Read(uint32_t caller, uint32_t partition, uint64_t offset, uint32_t max_records,
            Callback<Result<runtime::LogBatch>> done);
  void EndOffset(uint32_t caller, uint32_t partition, Callback<Result<uint64_t>> done);

  // Side channel: every record of partition `p`; record i has offset i.
  const runtime::RecordBatch& Partition(uint32_t p) const { return partitions_[p]; }

 private:
  std::vector<runtime::RecordBatch> partitions_;
};

// One record made visible by the output store, in visibility order. A view into the store:
// valid while the store lives.
struct OutputRecord {
  enum class Kind { kTransactional, kAppend, kUpsert };
  Kind kind = Kind::kAppend;
  std::string_view writer;
  uint64_t epoch = 0;
  std::string_view txn;  // for kTransactional
  std::string_view key;  // for kUpsert
  std::span<const uint8_t> payload;
  Time visible_at;
};

enum class TxnState { kOpen, kPreCommitted, kCommitted, kAborted };

class OutputStoreSim : public ServiceBase {
 public:
  // `transaction_timeout`: zero, or how long a transaction may stay open or pre-committed
  // before the store aborts it (Kafka's transaction.timeout.ms).
  OutputStoreSim(World* world, ServiceLatency latency, Duration transaction_timeout);
  using WriterEpoch = runtime::WriterEpoch;
  using RecordBatch = runtime::RecordBatch;
  void Fence(uint32_t caller, WriterEpoch who, Callback<Status> done);
  void Write(uint32_t caller, WriterEpoch who, std::string txn, RecordBatch records,
             Callback<Status> done);
  void PreCommit(uint32_t caller, WriterEpoch who, std::string txn, Callback<Status> done);
  void Commit(uint32_t caller, WriterEpoch who, std::string txn, Callback<Status> done);
  void Abort(uint32_t caller, WriterEpoch who, std::string txn, Callback<Status> done);
  void Lookup(uint32_t caller, WriterEpoch who, std::string txn,
              Callback<Result<runtime::TxnStatus>> done);
  void Append(uint32_t caller, WriterEpoch who, RecordBatch records, Callback<Status> done);
  // Applies the entries in order, each published as a visible upsert record.
  void Upsert(uint32_t caller, WriterEpoch who, std::vector<runtime::UpsertEntry> entries,
              Callback<Status> done);

  // Side channel.
  // Every visible record, in visibility order (views into the store).
  std::vector<OutputRecord> visible() const;
  size_t visible_count() const { return visible_count_; }
  // As of now: a transaction past the timeout reads kAborted even before an operation
  // touched it.
  std::optional<TxnState> StateOf(std::string_view txn) const;
  // Whether the store aborted `txn` because of its transaction timeout (as of now).
  bool Expired(std::string_view txn) const;
  // Side channel for trace observers: the writer epoch (the engine's attempt) the call whose
  // kServiceRequest record is being recorded carries; nullopt outside such a record. Reading it
  // draws nothing and records nothing.
  std::optional<uint64_t> EpochOfRequest() const { return requesting_epoch_; }
  const std::map<std::string, Bytes, std::less<>>& table() const { return table_; }
  // Commits of an already committed transaction (each published it again).
  uint64_t commits_repeated() const { return commits_repeated_; }

 private:
  std::optional<uint64_t> requesting_epoch_;  // set while a request is being recorded
  struct Txn {
    std::string writer;
    uint64_t epoch = 0;
    TxnState state = TxnState::kOpen;
    Time opened_at;        // the first write or pre-commit
    bool expired = false;  // aborted by the store's transaction timeout
    // One batch per write, shared with the visible list once committed (a commit publishes
    // without copying).
    std::vector<std::shared_ptr<const RecordBatch>> writes;
  };
  // Records made visible together: by one commit, append or upsert.
  struct VisibleBatch {
    OutputRecord::Kind kind;
    std::string writer;
    uint64_t epoch = 0;
    std::string txn;
    std::string key;
    std::shared_ptr<const RecordBatch> records;
    Time visible_at;
  };
  Status CheckFence(const WriterEpoch& who) const;
  // Whether `t`, open or pre-committed, has outlived the transaction timeout at `now`.
  bool PastTimeout(const Txn& t, Time now) const;
  // Aborts `t` if it outlived the timeout (applied lazily, when an operation touches it: no
  // timer, so a run without a timeout is unchanged). Returns the error for an expired one.
  Status ExpireIfDue(std::string_view name, Txn& t);
  void Publish(VisibleBatch batch);

  std::map<std::string, uint64_t, std::less<>> fences_;
  std::map<std::string, Txn, std::less<>> txns_;
  std::map<std::string, Bytes, std::less<>> table_;
  std::deque<VisibleBatch> visible_;  // a deque: views into its strings stay valid
  size_t visible_count_ = 0;
  uint64_t commits_repeated_ = 0;
  Duration transaction_timeout_;
};

}  // namespace faultline::sim
