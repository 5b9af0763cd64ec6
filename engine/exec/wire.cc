#include "engine/exec/wire.h"

#include <algorithm>
#include <cstring>

#include "base/assert.h"

namespace faultline::engine {

void EncodeHandshake(Buffer& out, const Handshake& h) {
  PutU8(out, static_cast<uint8_t>(BufferType::kHandshake));
  PutU32(out, h.producer_task);
  PutU64(out, h.attempt);
}

void EncodeBarrier(Buffer& out, const BarrierInfo& b) {
  PutU8(out, static_cast<uint8_t>(BufferType::kBarrier));
  PutU64(out, b.checkpoint_id);
  PutU8(out, static_cast<uint8_t>((b.unaligned ? 1 : 0) | (b.final ? 2 : 0) |
                                  (b.savepoint ? 4 : 0) | (b.stop ? 8 : 0)));
  PutU64(out, static_cast<uint64_t>(b.timestamp.nanos()));
}

void EncodeEndOfData(Buffer& out) {
  PutU8(out, static_cast<uint8_t>(BufferType::kEndOfData));
}

void EncodeCancelMarker(Buffer& out, uint64_t checkpoint_id) {
  PutU8(out, static_cast<uint8_t>(BufferType::kCancelMarker));
  PutU64(out, checkpoint_id);
}

void BeginRecords(Buffer& out) {
  PutU8(out, static_cast<uint8_t>(BufferType::kRecords));
  PutU32(out, 0);
}

void FinishRecords(Buffer& out, uint32_t count) {
  for (int i = 0; i < 4; ++i)
    out[1 + static_cast<size_t>(i)] = static_cast<uint8_t>(count >> (8 * i));
}

Result<BufferType> PeekType(const Buffer& buffer) {
  if (buffer.empty()) return DataLossError("empty buffer on a data channel");
  const uint8_t t = buffer[0];
  if (t < 1 || t > 5) return DataLossError("unknown buffer type " + std::to_string(t));
  return static_cast<BufferType>(t);
}

Result<Handshake> DecodeHandshake(const Buffer& buffer) {
  ByteReader in(buffer, 1);
  Handshake h;
  FL_ASSIGN_OR_RETURN(h.producer_task, in.U32());
  FL_ASSIGN_OR_RETURN(h.attempt, in.U64());
  return h;
}

Result<BarrierInfo> DecodeBarrier(const Buffer& buffer) {
  ByteReader in(buffer, 1);
  BarrierInfo b;
  FL_ASSIGN_OR_RETURN(b.checkpoint_id, in.U64());
  FL_ASSIGN_OR_RETURN(uint8_t flags, in.U8());
  b.unaligned = (flags & 1) != 0;
  b.final = (flags & 2) != 0;
  b.savepoint = (flags & 4) != 0;
  b.stop = (flags & 8) != 0;
  FL_ASSIGN_OR_RETURN(uint64_t timestamp, in.U64());
  b.timestamp = Time::Zero() + Duration::Nanos(static_cast<int64_t>(timestamp));
  return b;
}

Result<uint64_t> DecodeCancelMarker(const Buffer& buffer) {
  ByteReader in(buffer, 1);
  FL_ASSIGN_OR_RETURN(uint64_t checkpoint_id, in.U64());
  if (!in.done()) return DataLossError("trailing bytes after a cancellation marker");
  return checkpoint_id;
}

std::string_view DeclineReasonName(DeclineReason reason) {
  switch (reason) {
    case DeclineReason::kUnknown:
      return "unknown";
    case DeclineReason::kSubsumed:
      return "subsumed";
    case DeclineReason::kCancellationMarker:
      return "cancellation-marker";
    case DeclineReason::kUploadFailed:
      return "upload-failed";
  }
  return "unknown";
}

bool CountsAsFailure(DeclineReason reason) {
  // As Flink's CheckpointFailureManager: a subsumed checkpoint, or one an upstream decline
  // cancelled (that decline counts), is not a failure of its own.
  return reason != DeclineReason::kSubsumed && reason != DeclineReason::kCancellationMarker;
}

Result<uint32_t> CheckRecords(const Buffer& buffer) {
  ByteReader in(buffer, 1);
  FL_ASSIGN_OR_RETURN(uint32_t count, in.U32());
  size_t offset = in.offset();
  for (uint32_t i = 0; i < count; ++i) {
    // Each record: u32 key length, the key, then 24 bytes (value, provenance).
    if (buffer.size() - offset < 4) {
      return DataLossError("record " + std::to_string(i) + " of " + std::to_string(count) +
                           " cut short at byte " + std::to_string(offset));
    }
    uint32_t key_size = 0;
    std::memcpy(&key_size, buffer.data() + offset, 4);
    if (buffer.size() - offset - 4 < size_t{key_size} + 24) {
      return DataLossError("record " + std::to_string(i) + " of " + std::to_string(count) +
                           " cut short at byte " + std::to_string(offset));
    }
    offset += 4 + size_t{key_size} + 24;
  }
  if (offset != buffer.size()) return DataLossError("trailing bytes after records");
  return count;
}

void EncodeControl(Buffer& out, const ControlMessage& m) {
  PutU8(out, static_cast<uint8_t>(m.type));
  PutU32(out, m.task);
  PutU64(out, m.attempt);
  PutU64(out, m.checkpoint_id);
  PutU64(out, m.flags);
  PutU64(out, static_cast<uint64_t>(m.time_ns));
  PutBytes(out, m.text);
  PutBytes(out,
           std::string_view(reinterpret_cast<const char*>(m.payload.data()), m.payload.size()));
}

Result<ControlMessage> DecodeControl(const Buffer& buffer) {
  ByteReader in(buffer);
  ControlMessage m;
  FL_ASSIGN_OR_RETURN(uint8_t type, in.U8());
  if (type < 1 || type > static_cast<uint8_t>(ControlType::kTaskFinished))
    return DataLossError("unknown control message " + std::to_string(type));
  m.type = static_cast<ControlType>(type);
  FL_ASSIGN_OR_RETURN(m.task, in.U32());
  FL_ASSIGN_OR_RETURN(m.attempt, in.U64());
  FL_ASSIGN_OR_RETURN(m.checkpoint_id, in.U64());
  FL_ASSIGN_OR_RETURN(m.flags, in.U64());
  FL_ASSIGN_OR_RETURN(uint64_t time_ns, in.U64());
  m.time_ns = static_cast<int64_t>(time_ns);
  FL_ASSIGN_OR_RETURN(m.text, in.Bytes());
  FL_ASSIGN_OR_RETURN(std::string payload, in.Bytes());
  m.payload.assign(payload.begin(), payload.end());
  if (!in.done()) return DataLossError("trailing bytes after a control message");
  return m;
}

std::string_view ControlTypeName(ControlType type) {
  switch (type) {
    case ControlType::kRegister:
      return "register";
    case ControlType::kDeploy:
      return "deploy";
    case ControlType::kTaskRunning:
      return "running";
    case ControlType::kEndOfInput:
      return "end-of-input";
    case ControlType::kTaskFailed:
      return "failed";
    case ControlType::kTrigger:
      return "trigger";
    case ControlType::kAck:
      return "ack";
    case ControlType::kDecline:
      return "decline";
    case ControlType::kNotifyComplete:
      return "notify-complete";
    case ControlType::kNotifyAborted:
      return "notify-aborted";
    case ControlType::kCancel:
      return "cancel";
    case ControlType::kFinish:
      return "finish";
    case ControlType::kHeartbeat:
      return "heartbeat";
    case ControlType::kTaskFinished:
      return "task-finished";
  }
  return "?";
}

}  // namespace faultline::engine
