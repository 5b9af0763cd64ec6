// The engine's events, as recorded in the trace through runtime::EventSink, listed in one place
// with the process that records them and the name of every argument. A viewer replays a run from
// these, the checkers read them, and the fault library triggers on them ("when checkpoint 3 is
// triggered"); all of them read arguments by name (EventArgs), never by position.
//
//   ctx_.events->Record(MakeEvent(EngineEvent::kBarrierReceived, spec_.name,
//                                 {.checkpoint = id, .input = input}));
//   const EventArgs args = ReadEventArgs(EngineEvent::kBarrierReceived, record_slots);
//   args.checkpoint.value();
//
// MakeEvent asserts that exactly the event's arguments are given, so an emitter cannot leave one
// out or add one the table does not name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/assert.h"
#include "engine/runtime/runtime.h"

namespace faultline::engine {

// X(enumerator, field): every argument an engine event may carry, by name.
// clang-format off
#define FAULTLINE_EVENT_ARGS(X)                                                             \
  X(kCheckpoint, checkpoint)              /* a checkpoint id */                             \
  X(kInput, input)                        /* a task's input index */                        \
  X(kEntries, entries)                    /* keyed-state entries captured */                \
  X(kDigest, digest)                      /* the captured state's digest */                 \
  X(kBytes, bytes)                        /* bytes uploaded or written */                   \
  X(kStartDelayNanos, start_delay_nanos)  /* trigger to first barrier */                    \
  X(kProcessedBytes, processed_bytes)     /* input processed during alignment */            \
  X(kRestoredDigest, restored_digest)     /* the restored state's digest */                      \
  X(kRecordedDigest, recorded_digest)     /* the digest the checkpoint recorded */          \
  X(kInFlightBuffers, in_flight_buffers)  /* buffers persisted as channel state */          \
  X(kOutputSide, output_side)             /* 1: on a task's outputs, 0: on its inputs */    \
  X(kFinal, final)                        /* 1 for the final checkpoint */                  \
  X(kLate, late)                          /* 1 when completed after it was given up */      \
  X(kAttempt, attempt)                    /* a job attempt (deployment) number */           \
  X(kRestoredCheckpoint, restored_checkpoint) /* the checkpoint restored (0: none) */       \
  X(kFallback, fallback)                  /* the checkpoint fallen back to (0: none) */     \
  X(kFinalCheckpoint, final_checkpoint)   /* the job's final checkpoint (0: failed) */     \
  X(kReason, reason)                      /* a DeclineReason (engine/exec/wire.h) */      \
  X(kGeneration, generation)              /* a plan generation (0: the job as submitted) */ \
  X(kStop, stop)                          /* 1 for a stop-with-savepoint */                 \
  X(kClaim, claim)                        /* 1 when a resume claims the savepoint */
// clang-format on

enum class EventArg : uint8_t {
  kNone,
#define FAULTLINE_EVENT_ARG_ENUM(e, field) e,
  FAULTLINE_EVENT_ARGS(FAULTLINE_EVENT_ARG_ENUM)
#undef FAULTLINE_EVENT_ARG_ENUM
};

// Which process records an event.
enum class EventSource : uint8_t { kTask, kJobManager };

// X(enumerator, value, name, source, first, second, third argument; kNone: unused). The detail
// string is the task's name ("sum+out#2") for task events, unless said otherwise.
// clang-format off
#define FAULTLINE_ENGINE_EVENTS(X)                                                                        \
  X(kBarrierEmitted, 1, "barrier-emitted", kTask, kCheckpoint, kNone, kNone)                             \
  X(kBarrierReceived, 2, "barrier-received", kTask, kCheckpoint, kInput, kNone)                          \
  X(kAligned, 3, "aligned", kTask, kCheckpoint, kInFlightBuffers, kNone)                                           \
  X(kSnapshotCaptured, 4, "snapshot-captured", kTask, kCheckpoint, kEntries, kDigest)                    \
  X(kUploaded, 5, "uploaded", kTask, kCheckpoint, kBytes, kNone)                                          \
  X(kAckSent, 6, "ack-sent", kTask, kCheckpoint, kStartDelayNanos, kProcessedBytes)                      \
  X(kEndOfInput, 7, "end-of-input", kTask, kNone, kNone, kNone)                                           \
  X(kRestoreStarted, 8, "restore-started", kTask, kCheckpoint, kNone, kNone)                             \
  X(kRestoreFinished, 9, "restore-finished", kTask, kCheckpoint, kRestoredDigest, kRecordedDigest)      \
  X(kChannelStateReplayed, 10, "channel-state-replayed", kTask, kCheckpoint, kNone, kNone)               \
  X(kAlignmentTimedOut, 11, "alignment-timed-out", kTask, kCheckpoint, kInFlightBuffers, kOutputSide)          \
  X(kTaskFinished, 12, "task-finished", kTask, kCheckpoint, kNone, kNone)  /* after the final checkpoint's commit */ \
  X(kTransactionExpired, 13, "transaction-expired", kTask, kCheckpoint, kNone, kNone)  /* detail: txn; data lost */ \
  X(kTriggered, 20, "checkpoint-triggered", kJobManager, kCheckpoint, kFinal, kNone)                     \
  X(kAllAcknowledged, 21, "all-acknowledged", kJobManager, kCheckpoint, kNone, kNone)                    \
  X(kMetadataWritten, 22, "metadata-written", kJobManager, kCheckpoint, kBytes, kNone)  /* detail: blob */ \
  X(kPointerMoved, 23, "checkpoint-completed", kJobManager, kCheckpoint, kNone, kLate)  /* detail: blob */ \
  X(kNotificationSent, 24, "notification-sent", kJobManager, kCheckpoint, kNone, kNone) /* detail: job */ \
  X(kCheckpointAborted, 25, "checkpoint-aborted", kJobManager, kCheckpoint, kNone, kNone) /* detail: why */ \
  X(kJobRestart, 26, "job-restart", kJobManager, kAttempt, kNone, kNone)             /* detail: why */   \
  X(kJobFinished, 27, "job-finished", kJobManager, kFinalCheckpoint, kNone, kNone)   /* detail: job or "failed: why" */ \
  X(kCheckpointUnreadable, 29, "checkpoint-unreadable", kJobManager, kCheckpoint, kFallback, kNone) /* detail: why */ \
  X(kDeployed, 28, "deployed", kJobManager, kAttempt, kRestoredCheckpoint, kGeneration)                  \
  X(kCheckpointDeclined, 30, "checkpoint-declined", kTask, kCheckpoint, kReason, kNone)                  \
  X(kCancelMarkerSent, 31, "cancel-marker-sent", kTask, kCheckpoint, kNone, kNone)                       \
  X(kCancelMarkerReceived, 32, "cancel-marker-received", kTask, kCheckpoint, kInput, kNone)           \
  X(kSavepointTriggered, 33, "savepoint-triggered", kJobManager, kCheckpoint, kStop, kNone)             \
  X(kSavepointCompleted, 34, "savepoint-completed", kJobManager, kCheckpoint, kStop, kNone)  /* detail: metadata blob */ \
  X(kSavepointFailed, 35, "savepoint-failed", kJobManager, kCheckpoint, kNone, kNone)  /* detail: why */ \
  X(kJobResumed, 36, "job-resumed", kJobManager, kCheckpoint, kGeneration, kClaim)  /* detail: the savepoint's metadata blob, or "refused: why" */
// clang-format on

enum class EngineEvent : int64_t {
#define FAULTLINE_ENGINE_EVENT_ENUM(e, v, name, source, a, b, c) e = v,
  FAULTLINE_ENGINE_EVENTS(FAULTLINE_ENGINE_EVENT_ENUM)
#undef FAULTLINE_ENGINE_EVENT_ENUM
};

struct EngineEventInfo {
  EngineEvent event;
  std::string_view name;
  EventSource source;
  std::array<EventArg, 3> args;  // slot -> argument (kNone: unused)
};

inline constexpr std::array kEngineEvents = {
#define FAULTLINE_ENGINE_EVENT_INFO(e, v, name, source, a, b, c) \
  EngineEventInfo{                                               \
      EngineEvent::e, name, EventSource::source, {EventArg::a, EventArg::b, EventArg::c}},
    FAULTLINE_ENGINE_EVENTS(FAULTLINE_ENGINE_EVENT_INFO)
#undef FAULTLINE_ENGINE_EVENT_INFO
};

// The row of an event kind as recorded (runtime::EngineEvent::kind); null for an unknown one.
constexpr const EngineEventInfo* FindEngineEvent(int64_t kind) {
  for (const EngineEventInfo& info : kEngineEvents) {
    if (static_cast<int64_t>(info.event) == kind) return &info;
  }
  return nullptr;
}
constexpr const EngineEventInfo& InfoOf(EngineEvent event) {
  const EngineEventInfo* info = FindEngineEvent(static_cast<int64_t>(event));
  FL_ASSERT(info != nullptr, "an engine event missing from FAULTLINE_ENGINE_EVENTS");
  return *info;
}
// "barrier-received"; "engine-event" for an unknown kind.
constexpr std::string_view EngineEventName(int64_t kind) {
  const EngineEventInfo* info = FindEngineEvent(kind);
  return info == nullptr ? std::string_view("engine-event") : info->name;
}
// The event named `name` ("barrier-received"); null when none is.
constexpr const EngineEventInfo* FindEngineEventByName(std::string_view name) {
  for (const EngineEventInfo& info : kEngineEvents) {
    if (info.name == name) return &info;
  }
  return nullptr;
}
// "checkpoint", "input", ...; "" for kNone.
std::string_view EventArgName(EventArg arg);
// The slot (0-2) of `arg` in `event`'s arguments; nullopt when the event does not carry it.
constexpr std::optional<size_t> SlotOf(EngineEvent event, EventArg arg) {
  const EngineEventInfo& info = InfoOf(event);
  for (size_t i = 0; i < info.args.size(); ++i) {
    if (info.args[i] == arg && arg != EventArg::kNone) return i;
  }
  return std::nullopt;
}

// An event's arguments by name; those the event does not carry are unset.
struct EventArgs {
#define FAULTLINE_EVENT_ARG_FIELD(e, field) std::optional<int64_t> field;
  FAULTLINE_EVENT_ARGS(FAULTLINE_EVENT_ARG_FIELD)
#undef FAULTLINE_EVENT_ARG_FIELD

  std::optional<int64_t>& Field(EventArg arg);
  const std::optional<int64_t>& Field(EventArg arg) const;
};

// The event to record: `args` must set exactly the arguments the table names for `event`
// (asserted). `detail` must outlive the Record call.
runtime::EngineEvent MakeEvent(EngineEvent event, std::string_view detail, const EventArgs& args);
// The arguments of a recorded event by name, from its three slots.
EventArgs ReadEventArgs(EngineEvent event, const int64_t (&slots)[3]);
EventArgs ReadEventArgs(EngineEvent event, int64_t a, int64_t b, int64_t c);

// Deprecated spelling kept for emitters not yet converted: the numeric kind.
constexpr int64_t Ev(EngineEvent e) {
  return static_cast<int64_t>(e);
}

}  // namespace faultline::engine
