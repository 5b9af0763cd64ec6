// Every fault kind of the fault library, listed in one place: its name (as the scenario
// schema spells it, scenarios/scenario.proto's Fault.kind oneof and Rate.kind), its category
// and what it does. docs/faults.md documents each kind's parameters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace faultline::faults {

// clang-format off
#define FAULTLINE_FAULT_CATEGORIES(X) \
  X(kProcess, "process")              \
  X(kNetwork, "network")              \
  X(kBlobStore, "blob-store")         \
  X(kLocalDisk, "local-disk")         \
  X(kClock, "clock")                  \
  X(kExternal, "external")            \
  X(kOperation, "operation")

// X(enumerator, name, category, description). New kinds go last, whatever their category: a
// kind's number is recorded in the trace of every fault it fires (and the schema's oneof lists
// them in this order).
#define FAULTLINE_FAULT_KINDS(X)                                                                    \
  X(kCrashTaskManager, "crash_task_manager", kProcess, "a TaskManager crashes; restarts after a delay or never") \
  X(kCrashJobManager, "crash_job_manager", kProcess, "the JobManager crashes (failover); restarts after a delay or never") \
  X(kFailTask, "fail_task", kProcess, "one task fails; the job restarts")                          \
  X(kPause, "pause", kProcess, "a process stalls for a duration (a GC-like pause), then resumes")   \
  X(kLatencySpike, "latency_spike", kNetwork, "messages on a link (or every link) take longer for a while") \
  X(kSlowBandwidth, "slow_bandwidth", kNetwork, "a link's (or every link's) bandwidth drops for a while") \
  X(kPartition, "partition", kNetwork, "no traffic between two node sets; crossing channels fail; heals later or never") \
  X(kClog, "clog", kNetwork, "messages on a link are held, then released in order")                 \
  X(kBlobWriteError, "blob_write_error", kBlobStore, "blob puts fail")                              \
  X(kBlobReadError, "blob_read_error", kBlobStore, "blob gets fail")                                \
  X(kBlobLatency, "blob_latency", kBlobStore, "blob operations take longer")                        \
  X(kBlobOutage, "blob_outage", kBlobStore, "the blob store answers UNAVAILABLE for a while")       \
  X(kBlobTornObject, "blob_torn_object", kBlobStore, "a put says OK but stores only a prefix")      \
  X(kBlobCorruption, "blob_corruption", kBlobStore, "a put stores the object with one bit flipped, silently") \
  X(kBlobLostWrite, "blob_lost_write", kBlobStore, "a put says OK, the object never appears")       \
  X(kBlobStaleList, "blob_stale_list", kBlobStore, "listings miss recently put objects")            \
  X(kDiskWriteError, "disk_write_error", kLocalDisk, "a node's local disk fails writes")            \
  X(kDiskSyncError, "disk_sync_error", kLocalDisk, "a node's local disk fails syncs")               \
  X(kDiskFull, "disk_full", kLocalDisk, "a node's local disk answers RESOURCE_EXHAUSTED for a while") \
  X(kDiskUnsyncedLoss, "disk_unsynced_loss", kLocalDisk, "a node crashes and loses its unsynced bytes") \
  X(kDiskCorruption, "disk_corruption", kLocalDisk, "a node's disk flips a bit of written data, silently") \
  X(kClockSkew, "clock_skew", kClock, "a node's clock jumps to read off by an offset")              \
  X(kClockDrift, "clock_drift", kClock, "a node's clock runs fast or slow")                         \
  X(kSourceSlow, "source_slow", kExternal, "the source log answers slowly for a while")             \
  X(kSourceUnavailable, "source_unavailable", kExternal, "the source log answers UNAVAILABLE for a while") \
  X(kOutputSlow, "output_slow", kExternal, "the output store answers slowly for a while")           \
  X(kOutputUnavailable, "output_unavailable", kExternal, "the output store answers UNAVAILABLE for a while") \
  X(kBlobThrottle, "blob_throttle", kBlobStore, "puts and gets answered \"slow down\" at a rate, for a while") \
  X(kRescale, "rescale", kOperation, "an operator rescales the job: it restarts from its latest checkpoint at another parallelism") \
  X(kSavepoint, "savepoint", kOperation, "an operator takes a savepoint or stops the job with one, and may resume the job from it at another parallelism or state backend")
// clang-format on

enum class FaultCategory : uint8_t {
#define FAULTLINE_FAULT_CATEGORY_ENUM(e, name) e,
  FAULTLINE_FAULT_CATEGORIES(FAULTLINE_FAULT_CATEGORY_ENUM)
#undef FAULTLINE_FAULT_CATEGORY_ENUM
};

enum class FaultKind : uint8_t {
#define FAULTLINE_FAULT_KIND_ENUM(e, name, category, description) e,
  FAULTLINE_FAULT_KINDS(FAULTLINE_FAULT_KIND_ENUM)
#undef FAULTLINE_FAULT_KIND_ENUM
};

inline constexpr size_t kFaultKindCount = 0
#define FAULTLINE_FAULT_KIND_COUNT(...) +1
    FAULTLINE_FAULT_KINDS(FAULTLINE_FAULT_KIND_COUNT)
#undef FAULTLINE_FAULT_KIND_COUNT
    ;
// The kinds that are faults: every kind before the first operation (kRescale), what generated
// cases draw from. Later faults would go after the operations and need their own range.
inline constexpr size_t kFaultOnlyKindCount = static_cast<size_t>(FaultKind::kRescale);

struct FaultKindInfo {
  FaultKind kind;
  std::string_view name;
  FaultCategory category;
  std::string_view description;
};

inline constexpr std::array<FaultKindInfo, kFaultKindCount> kFaultKinds = {{
#define FAULTLINE_FAULT_KIND_INFO(e, name, category, description) \
  {FaultKind::e, name, FaultCategory::category, description},
    FAULTLINE_FAULT_KINDS(FAULTLINE_FAULT_KIND_INFO)
#undef FAULTLINE_FAULT_KIND_INFO
}};

constexpr const FaultKindInfo& InfoOf(FaultKind kind) {
  return kFaultKinds[static_cast<size_t>(kind)];
}
constexpr std::string_view FaultKindName(FaultKind kind) {
  return InfoOf(kind).name;
}
std::string_view FaultCategoryName(FaultCategory category);
// "crash_task_manager" -> kCrashTaskManager; nullopt for an unknown name.
std::optional<FaultKind> FaultKindFromName(std::string_view name);

}  // namespace faultline::faults
