#include "engine/exec/snapshot.h"

#include "engine/api/record.h"

namespace faultline::engine {

namespace {
// A subtask's handles: a few operator and channel blobs, and its incremental state's files.
constexpr uint32_t kTaskSnapshotHandlesMax = 1u << 16;
}  // namespace

std::vector<uint8_t> EncodeTaskSnapshot(const TaskSnapshot& s) {
  std::vector<uint8_t> out;
  PutU32(out, s.task);
  PutU64(out, s.checkpoint_id);
  PutU32(out, static_cast<uint32_t>(s.handles.size()));
  for (const BlobHandle& h : s.handles) {
    PutU8(out, static_cast<uint8_t>(h.kind));
    PutBytes(out, h.blob);
    PutU64(out, h.size_bytes);
    PutU64(out, h.checksum);
  }
  PutU64(out, s.state_digest);
  PutU64(out, s.state_entries);
  PutU64(out, static_cast<uint64_t>(s.alignment.nanos()));
  PutU64(out, static_cast<uint64_t>(s.sync_duration.nanos()));
  PutU64(out, static_cast<uint64_t>(s.async_duration.nanos()));
  PutU64(out, s.state_bytes);
  PutU64(out, s.persisted_in_flight_bytes);
  PutU64(out, static_cast<uint64_t>(s.start_delay.nanos()));
  PutU64(out, s.processed_bytes);
  return out;
}

Result<TaskSnapshot> DecodeTaskSnapshot(const std::vector<uint8_t>& bytes) {
  ByteReader in(bytes);
  TaskSnapshot s;
  FL_ASSIGN_OR_RETURN(s.task, in.U32());
  FL_ASSIGN_OR_RETURN(s.checkpoint_id, in.U64());
  FL_ASSIGN_OR_RETURN(uint32_t n, in.U32());
  if (n > kTaskSnapshotHandlesMax) {
    return DataLossError("task snapshot with " + std::to_string(n) + " handles");
  }
  for (uint32_t i = 0; i < n; ++i) {
    BlobHandle h;
    FL_ASSIGN_OR_RETURN(uint8_t kind, in.U8());
    if (kind < 1 || kind > 6) return DataLossError("unknown state handle kind");
    h.kind = static_cast<HandleKind>(kind);
    FL_ASSIGN_OR_RETURN(h.blob, in.Bytes());
    FL_ASSIGN_OR_RETURN(h.size_bytes, in.U64());
    FL_ASSIGN_OR_RETURN(h.checksum, in.U64());
    s.handles.push_back(std::move(h));
  }
  FL_ASSIGN_OR_RETURN(s.state_digest, in.U64());
  FL_ASSIGN_OR_RETURN(s.state_entries, in.U64());
  FL_ASSIGN_OR_RETURN(uint64_t alignment, in.U64());
  FL_ASSIGN_OR_RETURN(uint64_t sync, in.U64());
  FL_ASSIGN_OR_RETURN(uint64_t async, in.U64());
  FL_ASSIGN_OR_RETURN(s.state_bytes, in.U64());
  FL_ASSIGN_OR_RETURN(s.persisted_in_flight_bytes, in.U64());
  FL_ASSIGN_OR_RETURN(uint64_t start_delay, in.U64());
  FL_ASSIGN_OR_RETURN(s.processed_bytes, in.U64());
  s.start_delay = Duration::Nanos(static_cast<int64_t>(start_delay));
  s.alignment = Duration::Nanos(static_cast<int64_t>(alignment));
  s.sync_duration = Duration::Nanos(static_cast<int64_t>(sync));
  s.async_duration = Duration::Nanos(static_cast<int64_t>(async));
  if (!in.done()) return DataLossError("trailing bytes after a task snapshot");
  return s;
}

std::vector<uint8_t> EncodeSourceState(const std::vector<SourceCursorState>& cursors) {
  std::vector<uint8_t> out;
  PutU32(out, static_cast<uint32_t>(cursors.size()));
  for (const SourceCursorState& c : cursors) {
    PutU32(out, c.partition);
    PutU64(out, c.offset);
    PutU8(out, c.ended ? 1 : 0);
  }
  return out;
}

Result<std::vector<SourceCursorState>> DecodeSourceState(const std::vector<uint8_t>& bytes) {
  ByteReader in(bytes);
  FL_ASSIGN_OR_RETURN(uint32_t n, in.U32());
  std::vector<SourceCursorState> out;
  for (uint32_t i = 0; i < n; ++i) {
    SourceCursorState c;
    FL_ASSIGN_OR_RETURN(c.partition, in.U32());
    FL_ASSIGN_OR_RETURN(c.offset, in.U64());
    FL_ASSIGN_OR_RETURN(uint8_t ended, in.U8());
    c.ended = ended != 0;
    out.push_back(c);
  }
  if (!in.done()) return DataLossError("trailing bytes after source state");
  return out;
}

std::vector<uint8_t> EncodeSinkState(const std::vector<PendingTransaction>& pending) {
  std::vector<uint8_t> out;
  PutU32(out, static_cast<uint32_t>(pending.size()));
  for (const PendingTransaction& p : pending) {
    PutU64(out, p.checkpoint_id);
    PutBytes(out, p.txn);
  }
  return out;
}

Result<std::vector<PendingTransaction>> DecodeSinkState(const std::vector<uint8_t>& bytes) {
  ByteReader in(bytes);
  FL_ASSIGN_OR_RETURN(uint32_t n, in.U32());
  std::vector<PendingTransaction> out;
  for (uint32_t i = 0; i < n; ++i) {
    PendingTransaction p;
    FL_ASSIGN_OR_RETURN(p.checkpoint_id, in.U64());
    FL_ASSIGN_OR_RETURN(p.txn, in.Bytes());
    out.push_back(std::move(p));
  }
  if (!in.done()) return DataLossError("trailing bytes after sink state");
  return out;
}

std::vector<uint8_t> EncodeChannelState(
    const std::vector<std::pair<uint32_t, std::vector<uint8_t>>>& buffers) {
  std::vector<uint8_t> out;
  PutU32(out, static_cast<uint32_t>(buffers.size()));
  for (const auto& [channel, buffer] : buffers) {
    PutU32(out, channel);
    PutBytes(out, std::string_view(reinterpret_cast<const char*>(buffer.data()), buffer.size()));
  }
  return out;
}

Result<std::vector<std::pair<uint32_t, std::vector<uint8_t>>>> DecodeChannelState(
    const std::vector<uint8_t>& bytes) {
  ByteReader in(bytes);
  FL_ASSIGN_OR_RETURN(uint32_t n, in.U32());
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> out;
  for (uint32_t i = 0; i < n; ++i) {
    FL_ASSIGN_OR_RETURN(uint32_t channel, in.U32());
    FL_ASSIGN_OR_RETURN(std::string buffer, in.Bytes());
    out.emplace_back(channel, std::vector<uint8_t>(buffer.begin(), buffer.end()));
  }
  if (!in.done()) return DataLossError("trailing bytes after channel state");
  return out;
}

}  // namespace faultline::engine
