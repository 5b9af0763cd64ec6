#include "engine/exec/buffer_queue.h"

namespace faultline::engine {

BufferInfo DescribeBuffer(const Buffer& buffer) {
  BufferInfo info;
  const Result<BufferType> type = PeekType(buffer);
  if (!type.ok()) return info;
  switch (*type) {
    case BufferType::kHandshake:
      info.kind = BufferInfo::Kind::kHandshake;
      break;
    case BufferType::kRecords:
      info.kind = BufferInfo::Kind::kRecords;
      if (const Result<uint32_t> count = CheckRecords(buffer); count.ok()) info.records = *count;
      break;
    case BufferType::kBarrier:
      info.kind = BufferInfo::Kind::kBarrier;
      if (const Result<BarrierInfo> barrier = DecodeBarrier(buffer); barrier.ok()) {
        info.checkpoint = barrier->checkpoint_id;
        info.unaligned = barrier->unaligned;
      }
      break;
    case BufferType::kEndOfData:
      info.kind = BufferInfo::Kind::kEndOfData;
      break;
    case BufferType::kCancelMarker:
      info.kind = BufferInfo::Kind::kCancelMarker;
      if (const Result<uint64_t> id = DecodeCancelMarker(buffer); id.ok()) info.checkpoint = *id;
      break;
  }
  return info;
}

}  // namespace faultline::engine
