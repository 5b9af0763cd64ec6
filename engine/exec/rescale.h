// Restoring a checkpoint at other parallelisms: a checkpoint's state, taken by the tasks of one
// plan generation, handed to the tasks of another (JobSetup::rescaled), as Flink's
// StateAssignmentOperation does.
//
// - Keyed state is redistributed by key-group range: a task gets every keyed handle (and, for
//   incremental RocksDB state, its shared files) of the old subtasks whose key groups overlap
//   its own, and its backend keeps only its own key groups.
// - Source offsets are union state (as FlinkKafkaConsumer's): every source subtask gets every
//   old subtask's cursors and keeps the partitions now assigned to it.
// - A two-phase-commit sink's pending transactions go to subtask (old subtask mod new
//   parallelism), which fences the old subtask's writer and commits them on its behalf, as
//   Kafka's sink aborts and recovers the transactional ids of subtasks that no longer exist.
// - Channel state (unaligned checkpoints) is not redistributed: PrepareJob refuses rescaling
//   a job with unaligned checkpoints, and a checkpoint holding it is refused here.
#pragma once

#include <cstdint>
#include <map>

#include "base/status.h"
#include "engine/exec/cluster.h"
#include "engine/exec/snapshot.h"

namespace faultline::engine {

// Per task of generation `to`, the state it restores from `state` (per task of generation
// `from`, one checkpoint's). Every task of `to` has an entry (empty for one that gets nothing);
// its state digest is 0 (unknown: the digest of a key-group subset is known only once read).
// `from` == `to`: `state` itself.
Result<std::map<uint32_t, TaskSnapshot>> RedistributeState(
    const JobSetup& setup, uint32_t from, uint32_t to,
    const std::map<uint32_t, TaskSnapshot>& state);

// The sink subtask that takes over old sink subtask `old_subtask`'s transactions and writer at
// `parallelism`.
inline uint32_t SinkHeir(uint32_t old_subtask, uint32_t parallelism) {
  return old_subtask % parallelism;
}

}  // namespace faultline::engine
