// The external systems a job talks to, outside its failure domain: a partitioned, replayable
// log that sources read by offset (like Kafka), and a transactional output store that sinks
// write to (two-phase commit, idempotent upserts, or plain appends). Both can be slow or
// unavailable; both are asynchronous and complete on the calling process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/runtime/storage.h"

namespace faultline::runtime {

struct LogRecord {
  uint64_t offset = 0;
  Bytes payload;
};

class SourceLog {
 public:
  virtual ~SourceLog() = default;
  virtual uint32_t PartitionCount() const = 0;
  // Up to `max_records` records of `partition` starting at `offset`, in offset order. An empty
  // result at the end of a bounded partition means end of input (see EndOffset).
  virtual void Read(uint32_t partition, uint64_t offset, uint32_t max_records,
                    Callback<Result<std::vector<LogRecord>>> done) = 0;
  // The offset one past the last record of a bounded partition.
  virtual void EndOffset(uint32_t partition, Callback<Result<uint64_t>> done) = 0;
};

// A writer of the output store is identified by a name and fenced by epoch: after
// Fence(writer, e), every operation of that writer with an epoch below e fails with Aborted.
struct WriterEpoch {
  std::string writer;
  uint64_t epoch = 0;
};

// What the store knows of a transaction.
enum class TxnStatus { kUnknown, kOpen, kPreCommitted, kCommitted, kAborted };

class OutputStore {
 public:
  virtual ~OutputStore() = default;
  // Raises the fence of `who.writer` to `who.epoch` (never lowers it), and aborts the writer's
  // transactions still open from earlier epochs (pre-committed ones stay), as Kafka does.
  virtual void Fence(WriterEpoch who, Callback<Status> done) = 0;

  // Transactions: writes to an open transaction are invisible until it commits. PreCommit makes
  // the transaction durable and closes it for writes; Commit publishes it. The store does not
  // deduplicate commits (like a staging table copied into the visible one): committing a
  // transaction twice publishes its records twice, so a sink that restores transactions of
  // unknown fate asks Lookup first. Commit of an aborted or unknown transaction fails with
  // NotFound; Abort of a committed one fails with FailedPrecondition.
  // Adds a batch of records to an open transaction (opening it if new).
  virtual void Write(WriterEpoch who, std::string txn, std::vector<Bytes> records,
                     Callback<Status> done) = 0;
  virtual void PreCommit(WriterEpoch who, std::string txn, Callback<Status> done) = 0;
  virtual void Commit(WriterEpoch who, std::string txn, Callback<Status> done) = 0;
  virtual void Abort(WriterEpoch who, std::string txn, Callback<Status> done) = 0;
  // The state of a transaction (kUnknown if the store never saw it). A read: not fenced.
  virtual void Lookup(WriterEpoch who, std::string txn, Callback<Result<TxnStatus>> done) = 0;

  // Non-transactional sinks: a visible append, and an idempotent upsert by key.
  virtual void Append(WriterEpoch who, std::vector<Bytes> records, Callback<Status> done) = 0;
  virtual void Upsert(WriterEpoch who, std::string key, Bytes value, Callback<Status> done) = 0;
};

}  // namespace faultline::runtime
