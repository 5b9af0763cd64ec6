#include "simulator/disk.h"

#include <algorithm>

#include "base/assert.h"
#include "simulator/world.h"

namespace faultline::sim {
namespace {

// The "op" argument of kDiskError records.
enum DiskOp : int { kCreate = 1, kAppend, kWrite, kSync, kRead, kRename, kDelete, kList };

}  // namespace

SimDisk::SimDisk(World* world, uint32_t node, uint64_t capacity_bytes)
    : world_(world), node_(node), capacity_bytes_(capacity_bytes) {}

SimDisk::File* SimDisk::Find(std::string_view path) {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

void SimDisk::Record(TraceKind kind, std::array<int64_t, 4> args, std::string_view detail) {
  world_->Record(kind, node_, args, detail);
}

FaultEffect SimDisk::CheckFault(FaultPoint point, std::string_view path, uint64_t bytes) {
  if (world_->faults().empty()) return {};
  return world_->faults().Check(FaultSite{point, world_->now(), node_, 0xffffffffu, path, bytes},
                                world_->Incarnation(node_));
}

Status SimDisk::Failed(int op, std::string_view path, Status error) {
  Record(TraceKind::kDiskError, {op, static_cast<int64_t>(error.code()), 0, 0}, path);
  return error;
}

Status SimDisk::Create(std::string_view path) {
  FaultEffect fault = CheckFault(FaultPoint::kDiskWrite, path, 0);
  if (!fault.error.ok()) return Failed(kCreate, path, fault.error);
  auto [it, inserted] = files_.try_emplace(std::string(path));
  used_bytes_ -= it->second.data.size();
  it->second = File{};
  Record(TraceKind::kDiskCreate, {}, path);
  return Status::Ok();
}

Status SimDisk::WriteAt(std::string_view path, uint64_t offset, std::span<const uint8_t> data) {
  const int op = offset == UINT64_MAX ? kAppend : kWrite;
  File* file = Find(path);
  if (file == nullptr) {
    return Failed(
        op, path,
        NotFoundError("node " + std::to_string(node_) + ": no file " + std::string(path)));
  }
  if (offset == UINT64_MAX) offset = file->data.size();
  if (offset > file->data.size()) {
    return Failed(op, path,
                  OutOfRangeError("write at offset " + std::to_string(offset) +
                                  " past the end of " + std::string(path)));
  }
  const uint64_t end = offset + data.size();
  const uint64_t growth = end > file->data.size() ? end - file->data.size() : 0;
  if (used_bytes_ + growth > capacity_bytes_) {
    return Failed(op, path,
                  ResourceExhaustedError("disk full on node " + std::to_string(node_) +
                                         " writing " + std::string(path)));
  }
  FaultEffect fault = CheckFault(FaultPoint::kDiskWrite, path, data.size());
  if (!fault.error.ok()) return Failed(op, path, fault.error);
  if (!fault.lose) {
    if (growth > 0) file->data.resize(end);
    std::copy(data.begin(), data.end(), file->data.begin() + static_cast<ptrdiff_t>(offset));
    if (fault.corrupt && !data.empty()) {
      // Silent corruption: one bit of the written range flips.
      file->data[offset + data.size() / 2] ^= 0x20;
    }
    used_bytes_ += growth;
    file->dirty_from = std::min(file->dirty_from, offset);
  }
  stats_.bytes_written += data.size();
  Record(TraceKind::kDiskWrite,
         {static_cast<int64_t>(offset), static_cast<int64_t>(data.size()),
          static_cast<int64_t>(file->data.size()), 0},
         path);
  return Status::Ok();
}

Status SimDisk::Append(std::string_view path, std::span<const uint8_t> data) {
  return WriteAt(path, UINT64_MAX, data);
}

Status SimDisk::Write(std::string_view path, uint64_t offset, std::span<const uint8_t> data) {
  FL_ASSERT(offset != UINT64_MAX);
  return WriteAt(path, offset, data);
}

Status SimDisk::Sync(std::string_view path) {
  File* file = Find(path);
  if (file == nullptr) {
    return Failed(
        kSync, path,
        NotFoundError("node " + std::to_string(node_) + ": no file " + std::string(path)));
  }
  FaultEffect fault = CheckFault(FaultPoint::kDiskSync, path, file->data.size());
  if (!fault.error.ok()) return Failed(kSync, path, fault.error);
  int64_t newly_durable = 0;
  if (file->dirty_from != UINT64_MAX || file->durable.size() != file->data.size()) {
    const uint64_t from = std::min<uint64_t>(file->dirty_from, file->durable.size());
    file->durable.resize(file->data.size());
    if (from < file->data.size()) {
      std::copy(file->data.begin() + static_cast<ptrdiff_t>(from), file->data.end(),
                file->durable.begin() + static_cast<ptrdiff_t>(from));
      newly_durable = static_cast<int64_t>(file->data.size() - from);
    }
    file->dirty_from = UINT64_MAX;
  }
  ++stats_.syncs;
  Record(TraceKind::kDiskSync, {static_cast<int64_t>(file->durable.size()), newly_durable, 0, 0},
         path);
  return Status::Ok();
}

Result<runtime::Bytes> SimDisk::Read(std::string_view path, uint64_t offset, uint64_t length) {
  File* file = Find(path);
  if (file == nullptr) {
    return Failed(
        kRead, path,
        NotFoundError("node " + std::to_string(node_) + ": no file " + std::string(path)));
  }
  FaultEffect fault = CheckFault(FaultPoint::kDiskRead, path, length);
  if (!fault.error.ok()) return Failed(kRead, path, fault.error);
  const uint64_t size = file->data.size();
  const uint64_t begin = std::min(offset, size);
  const uint64_t end = std::min(size, begin + length);
  runtime::Bytes out(file->data.begin() + static_cast<ptrdiff_t>(begin),
                     file->data.begin() + static_cast<ptrdiff_t>(end));
  if (fault.corrupt && !out.empty()) out[out.size() / 2] ^= 0x20;
  Record(TraceKind::kDiskRead,
         {static_cast<int64_t>(begin), static_cast<int64_t>(out.size()), 0, 0}, path);
  return out;
}

Result<uint64_t> SimDisk::Size(std::string_view path) {
  File* file = Find(path);
  if (file == nullptr) {
    return NotFoundError("node " + std::to_string(node_) + ": no file " + std::string(path));
  }
  return static_cast<uint64_t>(file->data.size());
}

Status SimDisk::Rename(std::string_view from, std::string_view to) {
  const std::string detail = std::string(from) + "->" + std::string(to);
  auto it = files_.find(from);
  if (it == files_.end()) {
    return Failed(
        kRename, detail,
        NotFoundError("node " + std::to_string(node_) + ": no file " + std::string(from)));
  }
  FaultEffect fault = CheckFault(FaultPoint::kDiskMetadata, from, 0);
  if (!fault.error.ok()) return Failed(kRename, detail, fault.error);
  File moved = std::move(it->second);
  files_.erase(it);
  if (File* old = Find(to)) used_bytes_ -= old->data.size();
  files_.insert_or_assign(std::string(to), std::move(moved));
  Record(TraceKind::kDiskRename, {}, detail);
  return Status::Ok();
}

Status SimDisk::Delete(std::string_view path) {
  auto it = files_.find(path);
  if (it == files_.end()) {
    return Failed(
        kDelete, path,
        NotFoundError("node " + std::to_string(node_) + ": no file " + std::string(path)));
  }
  FaultEffect fault = CheckFault(FaultPoint::kDiskMetadata, path, 0);
  if (!fault.error.ok()) return Failed(kDelete, path, fault.error);
  used_bytes_ -= it->second.data.size();
  files_.erase(it);
  Record(TraceKind::kDiskDelete, {}, path);
  return Status::Ok();
}

Result<std::vector<std::string>> SimDisk::List(std::string_view prefix) {
  FaultEffect fault = CheckFault(FaultPoint::kDiskMetadata, prefix, 0);
  if (!fault.error.ok()) return Failed(kList, prefix, fault.error);
  std::vector<std::string> out;
  for (auto it = files_.lower_bound(prefix); it != files_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    out.push_back(it->first);
  }
  return out;
}

uint64_t SimDisk::UnsyncedBytes() const {
  uint64_t n = 0;
  for (const auto& [path, file] : files_) {
    if (file.dirty_from != UINT64_MAX)
      n += file.data.size() - file.dirty_from;
    else if (file.data.size() != file.durable.size())
      n += file.data.size() - file.durable.size();
  }
  return n;
}

void SimDisk::OnCrash() {
  uint64_t lost = 0;
  int64_t files = 0;
  for (auto& [path, file] : files_) {
    if (file.dirty_from == UINT64_MAX && file.data.size() == file.durable.size()) continue;
    const uint64_t from = std::min<uint64_t>(file.dirty_from, file.durable.size());
    lost += file.data.size() > from ? file.data.size() - from : 0;
    used_bytes_ -= file.data.size();
    file.data = file.durable;
    used_bytes_ += file.data.size();
    file.dirty_from = UINT64_MAX;
    ++files;
  }
  if (lost > 0) {
    stats_.bytes_lost_unsynced += lost;
    ++stats_.crash_losses;
  }
  Record(TraceKind::kDiskCrashLoss, {static_cast<int64_t>(lost), files, 0, 0}, {});
}

void SimDisk::LoseAll() {
  int64_t bytes = 0;
  for (const auto& [path, file] : files_) bytes += static_cast<int64_t>(file.data.size());
  const auto files = static_cast<int64_t>(files_.size());
  files_.clear();
  used_bytes_ = 0;
  Record(TraceKind::kDiskLost, {files, bytes, 0, 0}, {});
}

}  // namespace faultline::sim
