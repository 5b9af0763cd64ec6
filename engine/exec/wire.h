// Wire formats of the engine's messages. Data channels carry typed buffers (records, barriers,
// end of data); control channels between the JobManager and the TaskManagers carry typed
// control messages. Everything is encoded by hand, little-endian, and decoded with bounds
// checks: a malformed buffer is a DataLoss status, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/assert.h"
#include "base/status.h"
#include "base/time.h"
#include "engine/api/record.h"

namespace faultline::engine {

using Buffer = std::vector<uint8_t>;

enum class BufferType : uint8_t {
  kHandshake = 1,  // first buffer on a data channel: who is sending
  kRecords = 2,
  kBarrier = 3,
  kEndOfData = 4,  // the producer's input is exhausted
  // The producer declined checkpoint n (Flink's CancelCheckpointMarker): sent in band on every
  // output, so a consumer aligning n stops without waiting for the JobManager's abort.
  kCancelMarker = 5,
};

struct Handshake {
  uint32_t producer_task = 0;
  uint64_t attempt = 0;
};

struct BarrierInfo {
  uint64_t checkpoint_id = 0;
  bool unaligned = false;
  bool final = false;  // the checkpoint after end of input (FLIP-147)
  Time timestamp;      // when the coordinator triggered it (its clock)
  // A savepoint (always aligned, in the canonical format, under "savepoints/"); `stop`: a
  // stop-with-savepoint, after whose barrier the sources emit nothing more.
  bool savepoint = false;
  bool stop = false;
};

void EncodeHandshake(Buffer& out, const Handshake& h);
void EncodeBarrier(Buffer& out, const BarrierInfo& b);
void EncodeEndOfData(Buffer& out);
void EncodeCancelMarker(Buffer& out, uint64_t checkpoint_id);
// Starts a records buffer; AppendRecord adds records, FinishRecords patches the count.
void BeginRecords(Buffer& out);
void FinishRecords(Buffer& out, uint32_t count);

Result<BufferType> PeekType(const Buffer& buffer);
Result<Handshake> DecodeHandshake(const Buffer& buffer);
Result<BarrierInfo> DecodeBarrier(const Buffer& buffer);
// The checkpoint a cancellation marker cancels.
Result<uint64_t> DecodeCancelMarker(const Buffer& buffer);
// Checks a records buffer's structure (its count, each record's extent, nothing after the
// last) without decoding it, so a corrupt buffer is refused before any of its records is
// processed. Returns the record count.
Result<uint32_t> CheckRecords(const Buffer& buffer);
// Where a records buffer's first record starts (after its type and count).
inline constexpr size_t kRecordsHeaderBytes = 5;
// Reads the record at `offset` of a buffer CheckRecords accepted into `record` (reusing its
// storage) and advances `offset`.
inline void ReadCheckedRecord(const Buffer& buffer, size_t& offset, Record& record) {
  const bool read = ReadRecordInto(buffer, offset, record);
  FL_ASSERT(read, "a record of a checked buffer cut short");
}

// --- control messages ----------------------------------------------------------------------

enum class ControlType : uint8_t {
  kRegister = 1,        // TM -> JM: a TaskManager (incarnation) is up
  kDeploy = 2,          // JM -> TM: run task t, attempt a, restoring checkpoint c (0: none)
  kTaskRunning = 3,     // TM -> JM
  kEndOfInput = 4,      // TM -> JM: the task consumed all of its input
  kTaskFailed = 5,      // TM -> JM: reason
  kTrigger = 6,         // JM -> TM (source tasks): start checkpoint c
  kAck = 7,             // TM -> JM: task t acknowledges checkpoint c with its state handles
  kDecline = 8,         // TM -> JM: task t declines checkpoint c
  kNotifyComplete = 9,  // JM -> TM: checkpoint c completed
  kNotifyAborted = 10,  // JM -> TM: checkpoint c aborted
  kCancel = 11,         // JM -> TM: cancel every task of attempts before a
  kFinish = 12,         // JM -> TM: the job is done; tasks may close
  kHeartbeat = 13,      // TM -> JM: still alive (task = node)
  kTaskFinished = 14,   // TM -> JM: task t committed final checkpoint c and finished (FLIP-147)
};

// Why a task declined a checkpoint (kDecline flags), as Flink's CheckpointFailureReason. The
// coordinator counts a decline toward the tolerable failures unless the checkpoint was subsumed
// (a newer barrier overtook it) or an upstream task's decline cancelled it (its marker).
enum class DeclineReason : uint8_t {
  kUnknown = 0,             // an older sender's decline without a reason
  kSubsumed = 1,            // CHECKPOINT_DECLINED_SUBSUMED: barrier n+1 overtook n here
  kCancellationMarker = 2,  // CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER: upstream declined
  kUploadFailed = 3,        // CHECKPOINT_ASYNC_EXCEPTION: the state upload failed
};
// "subsumed", "cancellation-marker", "upload-failed", "unknown".
std::string_view DeclineReasonName(DeclineReason reason);
// Whether a decline for `reason` counts toward the tolerable checkpoint failures.
bool CountsAsFailure(DeclineReason reason);

// kNotifyComplete flags: the checkpoint is a final one (taken after end of input).
inline constexpr uint64_t kNotifyFinal = 2;
// kNotifyComplete flags: the stop-with-savepoint completed; the task commits and finishes.
inline constexpr uint64_t kNotifyStop = 8;
// kTrigger flags: a savepoint; a stop-with-savepoint.
inline constexpr uint64_t kTriggerSavepoint = 4;
inline constexpr uint64_t kTriggerStop = 8;

// kTaskFailed flags: the task failed while restoring checkpoint `checkpoint_id`.
inline constexpr uint64_t kFailedRestoring = 1;

struct ControlMessage {
  ControlType type = ControlType::kRegister;
  uint32_t task = 0;
  uint64_t attempt = 0;
  uint64_t checkpoint_id = 0;  // deploy: the plan generation (JobSetup::rescaled)
  // trigger: bit 0 unaligned, bit 1 final, kTriggerSavepoint, kTriggerStop; deploy: restore
  // checkpoint; decline: DeclineReason; notify-complete: kNotifyFinal, kNotifyStop
  uint64_t flags = 0;
  int64_t time_ns = 0;  // trigger: the coordinator's trigger time
  std::string text;     // failure or decline reason; deploy: metadata blob to restore
  Buffer payload;       // ack: encoded task snapshot
};

void EncodeControl(Buffer& out, const ControlMessage& m);
Result<ControlMessage> DecodeControl(const Buffer& buffer);

std::string_view ControlTypeName(ControlType type);

}  // namespace faultline::engine
