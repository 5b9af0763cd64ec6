// Engine settings that every process of a job shares.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "base/time.h"
#include "engine/exec/restart.h"
#include "engine/state/state_backend.h"

namespace faultline::engine {

class ProcessingObserver;
class FlowObserver;
struct KeyGroupRange;

enum class CheckpointMode : uint8_t {
  kAligned = 1,      // exactly-once, barriers aligned
  kUnaligned = 2,    // exactly-once, barriers overtake in-flight data (persisted as channel state)
  kAtLeastOnce = 3,  // no alignment; replay may duplicate
};

std::string_view CheckpointModeName(CheckpointMode mode);

struct CheckpointConfig {
  CheckpointMode mode = CheckpointMode::kAligned;
  Duration interval = Duration::Seconds(1);
  Duration timeout = Duration::Seconds(10);
  Duration min_pause = Duration::Zero();
  uint32_t max_concurrent = 1;
  uint32_t tolerable_failures = 0;
  uint32_t retained = 1;
  // Finished checkpoints whose statistics the coordinator keeps (CheckpointCoordinator::
  // history(), beside the ones in progress), as Flink's web.checkpoints.history. The trace
  // records every checkpoint; reports read it from there.
  uint32_t history = 10;
  // Unaligned mode only: Flink's aligned-checkpoint-timeout. Zero: every checkpoint is
  // unaligned from the start. Positive: a checkpoint starts aligned, and a task whose
  // checkpoint is still not aligned this long after the trigger (the barrier's timestamp)
  // switches it to unaligned; a barrier emitted after that moment is emitted unaligned.
  Duration aligned_timeout = Duration::Zero();
  bool enabled = true;
};

// The known-bug catalogue of ORACLES.md, listed in one place: each switch plants exactly one
// protocol mistake that real engines made. All off by default; turn one on to watch what breaks
// (teaching), or to prove the checkers catch it (tests). Switches whose mechanism this build
// does not have yet (unaligned channel state, incremental shared files, transaction id reuse,
// zombie writers) are listed but refused by PrepareJob.
// clang-format off
#define FAULTLINE_TEACHING_SWITCHES(X)                                                      \
  X(no_alignment, "no-alignment",                                                          \
    "exactly-once mode processes records behind barrier n before alignment completes")     \
  X(offset_after_emit, "offset-after-emit",                                                \
    "a source records its read-ahead offset, past records not yet emitted at the barrier") \
  X(ack_before_upload, "ack-before-upload",                                                \
    "a task acknowledges before its asynchronous upload is durable")                      \
  X(commit_on_snapshot, "commit-on-snapshot",                                              \
    "the two-phase-commit sink commits at the barrier instead of on completion")          \
  X(drop_subsumed_commit, "drop-subsumed-commit",                                          \
    "on completion of n, commit only n's transaction and drop earlier pending ones")      \
  X(restore_latest_attempt, "restore-latest-attempt",                                      \
    "recovery uses the newest triggered checkpoint, complete or not")                    \
  X(skip_checksum, "skip-checksum", "restore accepts a corrupt blob")                       \
  X(delete_shared_on_subsume, "delete-shared-on-subsume",                                  \
    "incremental cleanup deletes shared files still referenced")                           \
  X(drop_channel_state, "drop-channel-state",                                              \
    "unaligned restore ignores persisted in-flight data")                                  \
  X(recommit_after_restore, "recommit-after-restore",                                      \
    "a restored sink commits again transactions already committed")                        \
  X(no_fencing, "no-fencing", "a task of a failed attempt keeps writing after the restart")    \
  X(commit_on_savepoint, "commit-on-savepoint",                                            \
    "sinks commit at an intermediate savepoint, which recovery never starts from")
// clang-format on

struct TeachingSwitches {
#define FAULTLINE_SWITCH_FIELD(field, name, what) bool field = false;
  FAULTLINE_TEACHING_SWITCHES(FAULTLINE_SWITCH_FIELD)
#undef FAULTLINE_SWITCH_FIELD
};

struct TeachingSwitchInfo {
  std::string_view name;
  std::string_view mistake;
  bool TeachingSwitches::*field;
};
inline constexpr TeachingSwitchInfo kTeachingSwitches[] = {
#define FAULTLINE_SWITCH_INFO(field, name, what) {name, what, &TeachingSwitches::field},
    FAULTLINE_TEACHING_SWITCHES(FAULTLINE_SWITCH_INFO)
#undef FAULTLINE_SWITCH_INFO
};

// What recovery does when the latest completed checkpoint cannot be read (blobs lost or
// corrupt). Two-phase-commit sinks may already have committed its output, so no choice keeps
// exactly-once (ORACLES.md): `kFail` stops the job with a DataLoss status (no duplicates,
// nothing silent); `kFallback` restores the newest readable retained checkpoint and reports the
// breach (records after it will be emitted again).
enum class UnreadableCheckpointPolicy : uint8_t { kFail, kFallback };

struct EngineConfig {
  CheckpointConfig checkpoints;
  uint32_t channel_credits = 2;           // buffers a producer may have outstanding per channel
  uint32_t buffer_bytes_max = 32 * 1024;  // a network buffer's capacity
  Duration buffer_timeout = Duration::Millis(100);  // Flink's default; zero: flush every batch
  uint32_t output_queue_max = 2;  // sealed buffers per channel before back-pressure
  Duration connect_retry = Duration::Millis(20);
  Duration heartbeat_interval = Duration::Millis(500);
  Duration heartbeat_timeout = Duration::Seconds(3);
  RestartStrategy restart;
  UnreadableCheckpointPolicy unreadable_checkpoint = UnreadableCheckpointPolicy::kFail;
  TeachingSwitches switches;
  // Side channel for checkers (see observer.h); not owned, may be null.
  ProcessingObserver* observer = nullptr;
  // Side channel for viewers: buffers through queues and the network; not owned, may be null.
  FlowObserver* flow_observer = nullptr;
  // Makes the keyed state backend of a subtask (state_backend.h). Empty: the heap backend.
  // RocksDbStateBackends() (engine/state/rocksdb/) for RocksDB; tests plant a bug through it.
  StateBackendFactory state_backend;
  // Its name, as a resume from a savepoint names backends (Rescale::backend).
  std::string state_backend_name = "heap";
  // Test seam: sees (and may alter) the in-flight input buffers (channel index, network buffer) a
  // task persists as an unaligned checkpoint's channel state, before they are encoded; the task
  // still processes every buffer. Tests plant a mistake in what a checkpoint persists through
  // it (tests/eo_cut_every_checkpoint_test.cc). Empty: nothing.
  std::function<void(uint64_t checkpoint, std::vector<std::pair<uint32_t, std::vector<uint8_t>>>&)>
      persisted_input_channels;
};

}  // namespace faultline::engine
