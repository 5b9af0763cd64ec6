// How the RocksDB backend opens RocksDB (rocksdb_state_backend.h says why): its environment (the
// file system given, the node's clock, sleeps that return at once) and its options. For the
// backend and for what must run RocksDB exactly as it does (bench/state_bench.cc's bare loop).
// Includes RocksDB's headers: keep it out of widely included ones.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>

#include <cstddef>
#include <memory>

#include "engine/runtime/clock.h"

namespace faultline::engine {

// An environment over `fs` whose clock is `clock` (null: time zero) and whose sleeps return at
// once. `fs` and `clock` must outlive it.
std::unique_ptr<rocksdb::Env> NewNodeEnv(const std::shared_ptr<rocksdb::FileSystem>& fs,
                                         const runtime::Clock* clock);

// The database options: no automatic compactions, RocksDB's memtable trigger out of reach of a
// memtable flushed at `memtable_bytes_max`, no automatic error recovery, no statistics dumps.
rocksdb::Options RocksDbDatabaseOptions(rocksdb::Env* env, size_t memtable_bytes_max);

// Writes without the write-ahead log.
rocksdb::WriteOptions RocksDbWriteOptions();

}  // namespace faultline::engine
