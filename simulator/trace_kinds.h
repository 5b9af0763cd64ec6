// Every kind of trace record, listed in one place with the names of its arguments. Appending a
// kind at the end keeps earlier kinds' numbers (and so earlier traces' hashes) unchanged.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace faultline::sim {

// X(enumerator, name, arg0, arg1, arg2, arg3, detail): unused argument names are "".
// clang-format off
#define FAULTLINE_TRACE_KINDS(X)                                                          \
  X(kNote, "note", "", "", "", "", "text")                                                \
  X(kTimerFired, "timer", "", "", "", "", "")                                             \
  X(kNodeStart, "node-start", "", "", "", "", "name")                                     \
  X(kNodeCrash, "crash", "", "", "", "", "reason")                                        \
  X(kNodeRestart, "restart", "", "", "", "", "")                                          \
  X(kNodePause, "pause", "", "", "", "", "")                                              \
  X(kNodeResume, "resume", "deferred", "", "", "", "")                                    \
  X(kClockSet, "clock-set", "offset_ns", "drift_ppm", "", "", "")                         \
  X(kConnect, "connect", "channel", "to", "port", "credits", "")                          \
  X(kAccept, "accept", "channel", "from", "port", "", "")                                 \
  X(kEstablished, "established", "channel", "to", "credits", "", "")                      \
  X(kChannelFailed, "channel-failed", "channel", "peer", "code", "", "why")               \
  X(kSend, "send", "channel", "to", "bytes", "seq", "")                                   \
  X(kDeliver, "deliver", "channel", "from", "bytes", "seq", "")                           \
  X(kDrop, "drop", "channel", "from", "bytes", "seq", "why")                              \
  X(kCreditStall, "credit-stall", "channel", "to", "outstanding", "", "")                 \
  X(kCreditReturn, "credit", "channel", "from", "credits", "", "")                        \
  X(kPartition, "partition", "id", "side_a", "side_b", "", "")                            \
  X(kHeal, "heal", "id", "", "", "", "")                                                  \
  X(kDiskCreate, "disk-create", "", "", "", "", "path")                                   \
  X(kDiskWrite, "disk-write", "offset", "bytes", "size", "", "path")                      \
  X(kDiskSync, "disk-sync", "durable_bytes", "newly_durable", "", "", "path")             \
  X(kDiskRead, "disk-read", "offset", "bytes", "", "", "path")                            \
  X(kDiskRename, "disk-rename", "", "", "", "", "from->to")                               \
  X(kDiskDelete, "disk-delete", "", "", "", "", "path")                                   \
  X(kDiskCrashLoss, "disk-lost-unsynced", "bytes", "files", "", "", "")                   \
  X(kDiskLost, "disk-lost", "files", "bytes", "", "", "")                                 \
  X(kDiskError, "disk-error", "op", "code", "", "", "path")                               \
  X(kServiceRequest, "request", "service", "op", "request", "bytes", "target")            \
  X(kServiceReply, "reply", "service", "op", "request", "code", "target")                 \
  X(kFaultInjected, "fault", "point", "effect", "peer", "delay_ns", "fault")              \
  X(kEngine, "engine", "event", "a", "b", "c", "detail")                                \
  X(kFaultFired, "fault-fired", "kind", "ends_by_ns", "node", "duration_ns", "fault")
// clang-format on

enum class TraceKind : uint16_t {
#define FAULTLINE_TRACE_ENUM(e, ...) e,
  FAULTLINE_TRACE_KINDS(FAULTLINE_TRACE_ENUM)
#undef FAULTLINE_TRACE_ENUM
};

inline constexpr size_t kTraceKindCount = 0
#define FAULTLINE_TRACE_COUNT(...) +1
    FAULTLINE_TRACE_KINDS(FAULTLINE_TRACE_COUNT)
#undef FAULTLINE_TRACE_COUNT
    ;

struct TraceKindInfo {
  std::string_view name;
  std::array<std::string_view, 4> args;
  std::string_view detail;
};

inline constexpr std::array<TraceKindInfo, kTraceKindCount> kTraceKindInfo = {{
#define FAULTLINE_TRACE_INFO(e, name, a0, a1, a2, a3, detail) {name, {a0, a1, a2, a3}, detail},
    FAULTLINE_TRACE_KINDS(FAULTLINE_TRACE_INFO)
#undef FAULTLINE_TRACE_INFO
}};

constexpr const TraceKindInfo& InfoOf(TraceKind kind) {
  return kTraceKindInfo[static_cast<size_t>(kind)];
}

// The services whose requests appear as kServiceRequest / kServiceReply.
enum class Service : int64_t { kBlobStore = 1, kHaStore = 2, kSourceLog = 3, kOutputStore = 4 };
std::string_view ServiceName(int64_t service);
// Operation names per service (the "op" argument).
enum class ServiceOp : int64_t {
  kPut = 1,
  kGet = 2,
  kDelete = 3,
  kList = 4,  // blob store
  kRead = 5,
  kCompareAndSet = 6,  // HA store
  kLogRead = 7,
  kEndOffset = 8,  // source log
  kFence = 9,
  kTxnWrite = 10,
  kPreCommit = 11,
  kCommit = 12,  // output store
  kAbort = 13,
  kAppend = 14,
  kUpsert = 15,
  kLookup = 16,  // output store
};
std::string_view ServiceOpName(int64_t op);

}  // namespace faultline::sim
