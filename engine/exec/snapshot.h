// What a task reports when it acknowledges a checkpoint: where its state went (blob names with
// sizes and checksums), the digest of the state it captured, and Flink-style statistics.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace faultline::engine {

enum class HandleKind : uint8_t {
  kKeyed = 1,
  kOperator = 2,
  kInputChannel = 3,
  kOutputChannel = 4,
  // A shared file of incremental keyed state (checkpoints/shared/...): uploaded for this
  // checkpoint (kSharedNew) or reused from an earlier one (kSharedReused), which the
  // coordinator accepts only while a retained or pending checkpoint still holds it.
  kSharedNew = 5,
  kSharedReused = 6,
};

// Where shared files live in checkpoint storage, as Flink's "shared/" directory beside the
// "chk-<n>/" ones: "checkpoints/shared/<task>/attempt-<a>/chk-<n>-<file>" (the checkpoint that
// uploaded the file; later ones may reference it).
inline constexpr std::string_view kSharedStatePrefix = "checkpoints/shared/";

inline bool IsShared(HandleKind kind) {
  return kind == HandleKind::kSharedNew || kind == HandleKind::kSharedReused;
}

struct BlobHandle {
  HandleKind kind = HandleKind::kKeyed;
  std::string blob;
  uint64_t size_bytes = 0;
  uint64_t checksum = 0;
};

struct TaskSnapshot {
  uint32_t task = 0;
  uint64_t checkpoint_id = 0;
  std::vector<BlobHandle> handles;
  uint64_t state_digest = 0;  // of the keyed state captured at the barrier
  uint64_t state_entries = 0;
  Duration alignment;  // first barrier to last (aligned mode)
  Duration sync_duration;
  Duration async_duration;
  uint64_t state_bytes = 0;
  uint64_t persisted_in_flight_bytes = 0;  // unaligned: channel state
  Duration start_delay;          // the checkpoint's trigger to its first barrier here (Flink's)
  uint64_t processed_bytes = 0;  // input processed between the first barrier and the snapshot
};

std::vector<uint8_t> EncodeTaskSnapshot(const TaskSnapshot& snapshot);
Result<TaskSnapshot> DecodeTaskSnapshot(const std::vector<uint8_t>& bytes);

// A source subtask's operator state: per assigned partition, the offset of the first record not
// yet emitted before the barrier, and whether the partition ended.
struct SourceCursorState {
  uint32_t partition = 0;
  uint64_t offset = 0;
  bool ended = false;
};
std::vector<uint8_t> EncodeSourceState(const std::vector<SourceCursorState>& cursors);
Result<std::vector<SourceCursorState>> DecodeSourceState(const std::vector<uint8_t>& bytes);

// A two-phase-commit sink subtask's operator state: transactions pre-committed for
// checkpoints whose completion it has not seen.
struct PendingTransaction {
  uint64_t checkpoint_id = 0;
  std::string txn;
};
std::vector<uint8_t> EncodeSinkState(const std::vector<PendingTransaction>& pending);
Result<std::vector<PendingTransaction>> DecodeSinkState(const std::vector<uint8_t>& bytes);

// Channel state (unaligned checkpoints): buffers in flight, each with its channel index.
std::vector<uint8_t> EncodeChannelState(
    const std::vector<std::pair<uint32_t, std::vector<uint8_t>>>& buffers);
Result<std::vector<std::pair<uint32_t, std::vector<uint8_t>>>> DecodeChannelState(
    const std::vector<uint8_t>& bytes);

}  // namespace faultline::engine
