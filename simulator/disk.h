// A node's simulated local disk (implements runtime::LocalFs). Contents live in memory; bytes
// become durable only on Sync. A crash of the node drops every unsynced byte (file contents
// fall back to what was last synced); losing the machine loses the whole disk. Create, Rename
// and Delete are durable when they return. Capacity is bounded: a full disk answers
// ResourceExhausted.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "engine/runtime/storage.h"
#include "simulator/fault_points.h"
#include "simulator/trace_kinds.h"

namespace faultline::sim {

class World;

struct DiskStats {
  uint64_t bytes_written = 0;
  uint64_t syncs = 0;
  uint64_t bytes_lost_unsynced = 0;  // over all crashes
  uint64_t crash_losses = 0;         // crashes that lost at least one byte
};

class SimDisk final : public runtime::LocalFs {
 public:
  SimDisk(World* world, uint32_t node, uint64_t capacity_bytes);

  Status Create(std::string_view path) override;
  Status Append(std::string_view path, std::span<const uint8_t> data) override;
  Status Write(std::string_view path, uint64_t offset, std::span<const uint8_t> data) override;
  Status Sync(std::string_view path) override;
  Result<runtime::Bytes> Read(std::string_view path, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view path) override;
  Status Rename(std::string_view from, std::string_view to) override;
  Status Delete(std::string_view path) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;

  // World hooks.
  void OnCrash();  // drop unsynced bytes
  void LoseAll();  // the machine's disk is gone

  // Side channel for tests and checkers: reads nothing into the trace.
  uint64_t UnsyncedBytes() const;
  uint64_t UsedBytes() const { return used_bytes_; }
  const DiskStats& stats() const { return stats_; }

 private:
  struct File {
    runtime::Bytes data;               // what reads see
    runtime::Bytes durable;            // what survives a crash
    uint64_t dirty_from = UINT64_MAX;  // lowest offset changed since the last sync
  };

  File* Find(std::string_view path);
  // Asks the fault hooks; returns the effect (error already tagged).
  FaultEffect CheckFault(FaultPoint point, std::string_view path, uint64_t bytes);
  Status Failed(int op, std::string_view path, Status error);
  Status WriteAt(std::string_view path, uint64_t offset, std::span<const uint8_t> data);
  void Record(TraceKind kind, std::array<int64_t, 4> args, std::string_view detail);

  World* world_;
  uint32_t node_;
  uint64_t capacity_bytes_;
  uint64_t used_bytes_ = 0;  // bytes of `data` over all files
  std::map<std::string, File, std::less<>> files_;
  DiskStats stats_;
};

}  // namespace faultline::sim
