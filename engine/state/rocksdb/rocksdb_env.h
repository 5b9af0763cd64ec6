// How the RocksDB backend opens RocksDB (rocksdb_state_backend.h says why): its environment and
// its options. For the backend and for what must run RocksDB exactly as it does
// (bench/state_bench.cc's bare loop).
// Includes RocksDB's headers: keep it out of widely included ones.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "engine/runtime/clock.h"

namespace faultline::engine {

// RocksDB's environment for a backend: files on `fs`, the node's clock (null: time zero), sleeps
// that return at once, and no background threads for its database: the work RocksDB schedules
// (flushes, purges of obsolete files) waits in a queue until RunScheduled() runs it on the
// calling thread, so every file operation happens on the task's thread in an order it decides.
// `fs` and `clock` must outlive it. Not thread-safe: one task's thread uses it.
class NodeEnv final : public rocksdb::EnvWrapper {
 public:
  NodeEnv(const std::shared_ptr<rocksdb::FileSystem>& fs, const runtime::Clock* clock);
  const char* Name() const override { return "faultline.NodeEnv"; }

  void Schedule(void (*function)(void* arg), void* arg, Priority pri, void* tag,
                void (*unschedule)(void* arg)) override;
  int UnSchedule(void* tag, Priority pri) override;
  // Runs the scheduled work, and what it schedules in turn, until none is left.
  void RunScheduled();

  uint64_t NowMicros() override;
  uint64_t NowNanos() override;
  void SleepForMicroseconds(int micros) override;
  rocksdb::Status GetCurrentTime(int64_t* unix_time) override;
  std::string TimeToString(uint64_t time) override;

 private:
  struct Work {
    void (*function)(void*);
    void* arg;
    Priority pri;
    void* tag;
    void (*unschedule)(void*);
  };
  std::deque<Work> scheduled_;
};

// The database options: no automatic compactions, RocksDB's memtable trigger out of reach of a
// memtable flushed at `memtable_bytes_max`, no automatic error recovery, no statistics dumps.
rocksdb::Options RocksDbDatabaseOptions(rocksdb::Env* env, size_t memtable_bytes_max);

// Writes without the write-ahead log.
rocksdb::WriteOptions RocksDbWriteOptions();

}  // namespace faultline::engine
