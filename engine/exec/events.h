// The engine's events, as recorded in the trace through runtime::EventSink (kind, then three
// integer arguments and a detail string), listed in one place. A viewer replays a run from
// these; the fault library triggers on them ("when checkpoint 3 is triggered").
#pragma once

#include <cstdint>
#include <string_view>

namespace faultline::engine {

// X(enumerator, value, name): arguments are documented per event.
// clang-format off
#define FAULTLINE_ENGINE_EVENTS(X)                                                  \
  X(kBarrierEmitted, 1, "barrier-emitted")      /* a: checkpoint */                 \
  X(kBarrierReceived, 2, "barrier-received")    /* a: checkpoint, b: input */       \
  X(kAligned, 3, "aligned")                     /* a: checkpoint */                 \
  X(kSnapshotCaptured, 4, "snapshot-captured")  /* a: checkpoint, b: entries, c: digest */ \
  X(kUploaded, 5, "uploaded")                   /* a: checkpoint, b: bytes */       \
  X(kAckSent, 6, "ack-sent")  /* a: checkpoint, b: start delay ns, c: processed bytes */ \
  X(kEndOfInput, 7, "end-of-input")                                                 \
  X(kRestoreStarted, 8, "restore-started")      /* a: checkpoint */                 \
  X(kRestoreFinished, 9, "restore-finished")    /* a: ckpt, b: restored, c: recorded digest */ \
  X(kChannelStateReplayed, 10, "channel-state-replayed") /* a: checkpoint */         \
  X(kAlignmentTimedOut, 11, "alignment-timed-out") /* a: checkpoint, b: in-flight buffers */ \
  X(kTriggered, 20, "checkpoint-triggered")     /* a: checkpoint, b: final */       \
  X(kAllAcknowledged, 21, "all-acknowledged")   /* a: checkpoint */                 \
  X(kMetadataWritten, 22, "metadata-written")   /* a: checkpoint, b: bytes */       \
  X(kPointerMoved, 23, "checkpoint-completed")  /* a: checkpoint, c: 1 if after it was given up */ \
  X(kNotificationSent, 24, "notification-sent") /* a: checkpoint */                 \
  X(kCheckpointAborted, 25, "checkpoint-aborted") /* a: checkpoint; detail: why */  \
  X(kJobRestart, 26, "job-restart")             /* a: next attempt; detail: why */  \
  X(kJobFinished, 27, "job-finished")           /* a: final checkpoint */           \
  X(kCheckpointUnreadable, 29, "checkpoint-unreadable") /* a: ckpt, b: fallback (0: none) */ \
  X(kDeployed, 28, "deployed")                  /* a: attempt, b: restored checkpoint */
// clang-format on

enum class EngineEvent : int64_t {
#define FAULTLINE_ENGINE_EVENT_ENUM(e, v, name) e = v,
  FAULTLINE_ENGINE_EVENTS(FAULTLINE_ENGINE_EVENT_ENUM)
#undef FAULTLINE_ENGINE_EVENT_ENUM
};

constexpr std::string_view EngineEventName(int64_t kind) {
  switch (static_cast<EngineEvent>(kind)) {
#define FAULTLINE_ENGINE_EVENT_NAME(e, v, name) \
  case EngineEvent::e:                          \
    return name;
    FAULTLINE_ENGINE_EVENTS(FAULTLINE_ENGINE_EVENT_NAME)
#undef FAULTLINE_ENGINE_EVENT_NAME
  }
  return "engine-event";
}

constexpr int64_t Ev(EngineEvent e) {
  return static_cast<int64_t>(e);
}

}  // namespace faultline::engine
