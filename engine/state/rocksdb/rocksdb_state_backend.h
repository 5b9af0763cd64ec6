// The RocksDB keyed state backend: one RocksDB instance per stateful subtask, on the node's local
// disk (runtime::LocalFs, through LocalFsFileSystem: in a simulation, the simulated disk with its
// faults), behind the same interface as the heap backend (state_backend.h).
//
// Layout: one column family; an entry's RocksDB key is
//   u32 key group (big-endian) | u32 state id (big-endian) | key, escaped | user key
// where the key's bytes are escaped (0x00 -> 0x00 0xFF) and end with 0x00 0x01, so RocksDB's
// bytewise order is (key group, state, key, user key) with keys compared as unsigned bytes: the
// keyed-state blob's section order. The value is the entry's bytes.
//
// Snapshots: Capture takes a RocksDB snapshot (the synchronous part, O(1)); Materialize iterates
// it into the shared keyed-state blob (keyed_state_blob.h), the same bytes the heap backend
// writes for the same entries, so either backend restores the other's checkpoints.
//
// Incremental snapshots (options.incremental), as Flink's: Capture flushes the memtable (and
// compacts once level 0 has grown), then lists the database's live files and keeps them;
// MaterializeIncremental uploads the SST files the latest completed checkpoint did not have
// (the others are reused: NotifyCheckpointComplete tells which) and puts the MANIFEST, CURRENT
// and OPTIONS files in the keyed handle (proto::IncrementalKeyedStateHandle). Restore of one
// handle of exactly the backend's key groups makes its files the database (the next checkpoint
// reuses them); any other restore places a handle's files in a scratch directory, opens them
// read-only and reads its key groups, so an incremental checkpoint restores at any parallelism.
//
// Determinism: RocksDB never works in the background here. The write-ahead log is off (as in
// Flink: checkpoints make state durable), automatic compactions are off, and the memtable is
// flushed explicitly once it exceeds `memtable_bytes_max`; the work RocksDB schedules for it
// (the flush, the purge of obsolete files) runs on the caller's thread (NodeEnv,
// rocksdb_env.h), so every file operation happens in an order the caller's operations decide.
// RocksDB's clock is the node's (it never sleeps: it sleeps only to retry after an error),
// automatic error recovery is off, and RocksDB's info log is dropped.
//
// Errors: a failing disk (a write, a sync, a full disk) makes RocksDB fail a flush or a write;
// the backend keeps the first such error and every later Capture's Materialize and Restore
// returns it (the interface's Put and Delete return nothing), so the task fails with a clear
// Status and recovers from its last checkpoint.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/status.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/storage.h"
#include "engine/state/state_backend.h"

namespace faultline::engine {

struct RocksDbBackendOptions {
  runtime::LocalFs* fs = nullptr;  // the node's local disk; must outlive the backend
  // RocksDB's clock (file times, statistics); null: time zero. Must outlive the backend.
  const runtime::Clock* clock = nullptr;
  // The database's directory on `fs`, the backend's own: whatever it holds is discarded at
  // open (a backend starts empty; Restore loads a checkpoint).
  std::string directory;
  // The memtable is flushed to an SST file once it holds more than this.
  size_t memtable_bytes_max = 32u << 20;
  // Incremental checkpoints (Capture flushes; the snapshot uploads new SST files only) instead
  // of full ones.
  bool incremental = false;
  // An incremental capture first compacts levels 0 and 1 into level 1 once level 0 holds this
  // many files (0: never).
  size_t compaction_l0_files = 4;
};

Result<std::unique_ptr<KeyedStateBackend>> NewRocksDbStateBackend(KeyGroupRange key_groups,
                                                                  RocksDbBackendOptions options);

// For EngineConfig::state_backend: each subtask's backend in its attempt's directory on its
// process's disk, on its process's clock; the task's earlier attempts' directories on that node
// are discarded first (no local recovery: a restore reads the checkpoint).
// `defaults` gives every option but the disk, the clock and the directory.
StateBackendFactory RocksDbStateBackends(RocksDbBackendOptions defaults = {});

}  // namespace faultline::engine
