// The external systems a job talks to, outside its failure domain: a partitioned, replayable
// log that sources read by offset (like Kafka), and a transactional output store that sinks
// write to (two-phase commit, idempotent upserts, or plain appends). Both can be slow or
// unavailable; both are asynchronous and complete on the calling process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "base/assert.h"
#include "engine/runtime/storage.h"

namespace faultline::runtime {

// Records as one contiguous block of bytes and the offset where each ends, so a batch of n
// records costs two growing buffers instead of n allocations. Record i is the bytes from the end
// of record i - 1 (or 0) to end(i).
class RecordBatch {
 public:
  RecordBatch() = default;
  RecordBatch(std::initializer_list<Bytes> records) {
    for (const Bytes& record : records) Add(record);
  }

  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  // Bytes of every record together.
  uint64_t bytes() const { return data_.size(); }
  std::span<const uint8_t> operator[](size_t i) const {
    FL_ASSERT(i < ends_.size(), "a record past the end of a batch");
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::span<const uint8_t>(data_).subspan(begin, ends_[i] - begin);
  }

  void Add(std::span<const uint8_t> record) {
    data_.insert(data_.end(), record.begin(), record.end());
    ends_.push_back(data_.size());
  }
  // Adds one record that `write(Bytes&)` appends in place (it may only append).
  template <typename Write>
  void AddWith(Write&& write) {
    const size_t before = data_.size();
    write(data_);
    FL_ASSERT(data_.size() >= before, "a record writer that shrank the batch");
    ends_.push_back(data_.size());
  }
  // Adds records [first, first + count) of `from`, with one copy of their bytes.
  void AddRange(const RecordBatch& from, size_t first, size_t count) {
    if (count == 0) return;
    FL_ASSERT(first + count <= from.size(), "a range past the end of a batch");
    const size_t begin = first == 0 ? 0 : from.ends_[first - 1];
    const size_t end = from.ends_[first + count - 1];
    const size_t shift = data_.size() - begin;  // where `from`'s offsets land in this batch
    data_.insert(data_.end(), from.data_.begin() + static_cast<ptrdiff_t>(begin),
                 from.data_.begin() + static_cast<ptrdiff_t>(end));
    for (size_t i = first; i < first + count; ++i) ends_.push_back(from.ends_[i] + shift);
  }
  void reserve(size_t records, size_t bytes) {
    ends_.reserve(records);
    data_.reserve(bytes);
  }
  void clear() {
    data_.clear();
    ends_.clear();
  }

 private:
  Bytes data_;
  std::vector<size_t> ends_;
};

// Consecutive records of one partition of a source log: record i has offset first_offset + i.
struct LogBatch {
  uint64_t first_offset = 0;
  RecordBatch records;
};

class SourceLog {
 public:
  virtual ~SourceLog() = default;
  virtual uint32_t PartitionCount() const = 0;
  // Up to `max_records` records of `partition` starting at `offset`, in offset order. An empty
  // result at the end of a bounded partition means end of input (see EndOffset).
  virtual void Read(uint32_t partition, uint64_t offset, uint32_t max_records,
                    Callback<Result<LogBatch>> done) = 0;
  // The offset one past the last record of a bounded partition.
  virtual void EndOffset(uint32_t partition, Callback<Result<uint64_t>> done) = 0;
};

// A writer of the output store is identified by a name and fenced by epoch: after
// Fence(writer, e), every operation of that writer with an epoch below e fails with Aborted.
struct WriterEpoch {
  std::string writer;
  uint64_t epoch = 0;
};

// One upsert: the value to hold under the key.
struct UpsertEntry {
  std::string key;
  Bytes value;
};

// What the store knows of a transaction.
// kExpired: aborted by the store because it stayed open or pre-committed past the store's
// transaction timeout (Kafka's transaction.timeout.ms); its records are lost.
enum class TxnStatus { kUnknown, kOpen, kPreCommitted, kCommitted, kAborted, kExpired };

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
  // NotFound; Abort of a committed one fails with FailedPrecondition. A store with a transaction
  // timeout aborts a transaction open or pre-committed longer than it: a later Write, PreCommit
  // or Commit of it fails with DeadlineExceeded, and Lookup answers kExpired.
  // Adds a batch of records to an open transaction (opening it if new).
  virtual void Write(WriterEpoch who, std::string txn, RecordBatch records,
                     Callback<Status> done) = 0;
  virtual void PreCommit(WriterEpoch who, std::string txn, Callback<Status> done) = 0;
  virtual void Commit(WriterEpoch who, std::string txn, Callback<Status> done) = 0;
  virtual void Abort(WriterEpoch who, std::string txn, Callback<Status> done) = 0;
  // The state of a transaction (kUnknown if the store never saw it). A read: not fenced.
  virtual void Lookup(WriterEpoch who, std::string txn, Callback<Result<TxnStatus>> done) = 0;

  // Non-transactional sinks: a visible append, and a batch of idempotent upserts by key,
  // applied in order (as a JDBC sink's batched upserts), each visible when the call succeeds.
  virtual void Append(WriterEpoch who, RecordBatch records, Callback<Status> done) = 0;
  virtual void Upsert(WriterEpoch who, std::vector<UpsertEntry> entries, Callback<Status> done) = 0;
};

}  // namespace faultline::runtime
