// Coverage markers: which situations a run reached, read from its recording (what the engine
// recorded, what the services applied, what the injected faults hit). They judge nothing; they
// show what a search reached (`faultline explore` counts them per seed, `--guided` keeps seeds
// that reach rare ones) and whether generated cases are worth running.
//
//   const checkers::Markers hit = checkers::MarkersOf(run_record);
//   for (checkers::Marker m : checkers::kAllMarkers) if (hit.has(m)) ... MarkerName(m)
//
// Each marker's rule is in its row of FAULTLINE_MARKERS below (docs/search.md lists them).
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "checkers/checker.h"

namespace faultline::checkers {

// X(enumerator, "name", "what reaching it means")
#define FAULTLINE_MARKERS(X)                                                                   \
  X(kCheckpointCompleted, "checkpoint-completed", "the HA pointer moved to a checkpoint")      \
  X(kCheckpointAborted, "checkpoint-aborted", "the coordinator aborted a checkpoint")          \
  X(kCheckpointDeclined, "checkpoint-declined", "a task declined a checkpoint")                \
  X(kLateCompletion, "late-completion",                                                        \
    "a checkpoint completed after the coordinator had given it up")                            \
  X(kConcurrentCheckpoints, "concurrent-checkpoints",                                          \
    "a checkpoint was triggered while another was in flight")                                  \
  X(kTriggerDeferred, "trigger-deferred",                                                      \
    "a periodic trigger came more than 1.5 intervals after the previous one (min pause, "      \
    "max concurrent or a slow completion held it back)")                                       \
  X(kBarrierDuringAlignment, "barrier-during-alignment",                                       \
    "a task received barrier n+1 while it was still aligning checkpoint n")                    \
  X(kAlignmentTimedOut, "alignment-timed-out",                                                 \
    "an aligned checkpoint switched to unaligned at its timeout")                              \
  X(kChannelStatePersisted, "channel-state-persisted",                                         \
    "a checkpoint persisted in-flight buffers as channel state")                               \
  X(kChannelStateRestored, "channel-state-restored", "a restored task replayed channel state") \
  X(kFinalCheckpoint, "final-checkpoint", "the job's final checkpoint was triggered")          \
  X(kCancelMarker, "cancel-marker", "a task sent a cancel marker downstream")                  \
  X(kJobRestarted, "job-restarted", "the job restarted (a failover)")                          \
  X(kTaskManagerCrashed, "taskmanager-crashed", "a TaskManager node crashed")                  \
  X(kJobManagerFailover, "jobmanager-failover",                                                \
    "the JobManager crashed and a new one deployed the job")                                   \
  X(kRestoredOlderThanLatest, "restored-older-than-latest",                                    \
    "a deployment restored a checkpoint older than the one the HA pointer named")              \
  X(kCheckpointFallback, "checkpoint-fallback",                                                \
    "the engine reported a checkpoint unreadable and fell back to an older one")               \
  X(kChecksumMismatch, "checksum-mismatch-detected",                                           \
    "a restore refused a checkpoint blob as data loss (checksum, length or decoding)")         \
  X(kZombieFenced, "zombie-fenced",                                                            \
    "the output store refused a call from a writer an older attempt left behind (fenced)")     \
  X(kTransactionRecovered, "transaction-recovered",                                            \
    "a later attempt committed a transaction an earlier attempt pre-committed")                \
  X(kTransactionExpired, "transaction-expired",                                                \
    "the output store expired a transaction (its timeout passed)")                             \
  X(kStorageDestroyed, "storage-destroyed",                                                    \
    "an injected fault lost, corrupted or tore a blob-store put")                              \
  X(kFaultHit, "fault-hit", "an injected fault hit an operation or a node")

enum class Marker : uint8_t {
#define FAULTLINE_MARKER_ENUM(e, name, what) e,
  FAULTLINE_MARKERS(FAULTLINE_MARKER_ENUM)
#undef FAULTLINE_MARKER_ENUM
};

inline constexpr std::array kAllMarkers = {
#define FAULTLINE_MARKER_VALUE(e, name, what) Marker::e,
    FAULTLINE_MARKERS(FAULTLINE_MARKER_VALUE)
#undef FAULTLINE_MARKER_VALUE
};
inline constexpr size_t kMarkerCount = kAllMarkers.size();

std::string_view MarkerName(Marker marker);
std::string_view MarkerDescription(Marker marker);
std::optional<Marker> MarkerFromName(std::string_view name);

// The markers one run hit.
class Markers {
 public:
  void set(Marker m) { bits_.set(static_cast<size_t>(m)); }
  bool has(Marker m) const { return bits_.test(static_cast<size_t>(m)); }
  size_t count() const { return bits_.count(); }
  // Names of the markers hit, in catalogue order.
  std::vector<std::string_view> names() const;
  bool operator==(const Markers&) const = default;

 private:
  std::bitset<kMarkerCount> bits_;
};

Markers MarkersOf(const RunRecord& run);

}  // namespace faultline::checkers
