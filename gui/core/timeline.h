// The state of a recorded run at any moment, folded from its trace records (the named engine
// events, node crashes, injected faults), with time travel: keyframes of the folded state every
// few thousand records, so seeking anywhere restores the nearest keyframe at or before it and
// applies the records after it (never a re-simulation). Every view of faultline-gui renders a
// RunState; Qt-free, so tests assert on it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/time.h"
#include "gui/core/recording.h"
#include "simulator/trace.h"

namespace faultline::gui {

enum class TaskPhase {
  kDeployed,   // deployed, no event of its own yet
  kRestoring,  // restoring a checkpoint
  kRunning,
  kAligning,  // a barrier arrived on some inputs, not all (aligned checkpoints)
  kFinished,  // ended its input, or finished after the final checkpoint
  kLost,      // its TaskManager crashed (until the job redeploys it)
  kCanceled,  // the job restarts: the attempt's tasks are cancelled until the next deployment
};
std::string_view TaskPhaseName(TaskPhase phase);

struct TaskState {
  std::string name;
  uint32_t node = 0;  // the TaskManager it runs on (the node that recorded its events)
  TaskPhase phase = TaskPhase::kDeployed;
  uint64_t attempt = 0;
  int64_t aligning = 0;              // the checkpoint whose barriers are arriving (0: none)
  std::set<int64_t> barrier_inputs;  // inputs its barrier came in on
  int64_t last_snapshot = 0;         // the last checkpoint it captured
  int64_t state_bytes = 0;           // what its last snapshot uploaded
  int64_t state_entries = 0;         // keyed-state entries its last snapshot captured
  Time since;                        // when it entered its phase
  bool operator==(const TaskState&) const = default;
};

// One row of the checkpoint history, as Flink's web UI has it.
struct CheckpointRow {
  int64_t id = 0;
  enum class Status { kInProgress, kCompleted, kAborted, kFailed } status = Status::kInProgress;
  bool savepoint = false;
  bool stop = false;
  bool final = false;
  uint64_t attempt = 0;
  Time triggered;
  Time ended;                 // completed or aborted
  uint32_t acknowledged = 0;  // tasks that acknowledged
  uint32_t expected = 0;      // tasks of the attempt's plan generation
  int64_t bytes = 0;          // uploaded by the tasks
  std::string why;            // aborted or failed: the reason
  struct Subtask {
    Time barrier;       // its first barrier (or its emission, for a source)
    Time aligned;       // its last barrier (alignment done)
    Time captured;      // snapshot captured
    Time acknowledged;  // acknowledgement sent
    int64_t bytes = 0;
    int64_t start_delay_nanos = 0;
    bool operator==(const Subtask&) const = default;
  };
  std::map<std::string, Subtask> subtasks;  // by task name
  bool operator==(const CheckpointRow&) const = default;
};
std::string_view CheckpointStatusName(CheckpointRow::Status status);

// A moment of the run worth a mark on the scrubber or a line in the event log.
struct Moment {
  size_t record = 0;  // index into Recording::records
  Time at;
  enum class Kind {
    kFault,
    kRecovery,
    kCheckpointCompleted,
    kCheckpointAborted,
    kJobEnd,
    kViolation,
  } kind;
  std::string text;
};

// The number of `records` (in time order) at or before `t`.
size_t RecordsUpTo(const std::vector<sim::TraceRecord>& records, Time t);

// Where each checker's violation shows in the run (the checkers judge the whole run; this is the
// moment a person jumps to): the time its evidence names when that is before the run's end,
// else the completion of the checkpoint it names, else the deployment of the attempt it names,
// else the run's end. One per violated verdict, in the report's order.
std::vector<Moment> ViolationMoments(const Recording& recording);

struct RunState {
  size_t applied = 0;  // records folded in: [0, applied)
  Time now;            // the time of the last one
  uint64_t attempt = 0;
  uint32_t generation = 0;
  std::map<std::string, TaskState> tasks;        // by task name
  std::map<int64_t, CheckpointRow> checkpoints;  // by id
  std::set<uint32_t> nodes_down;
  int64_t latest_completed = 0;
  std::string job_status = "running";  // "running", "restarting", "finished", "failed: ..."
  bool operator==(const RunState&) const = default;
};

// Folds one record into `state`. `recording` gives the plan generations' task counts.
void Apply(const Recording& recording, const sim::TraceRecord& record, RunState& state);

class Timeline {
 public:
  // `recording` must outlive the timeline.
  explicit Timeline(const Recording& recording, size_t keyframe_every = 2048);

  size_t size() const { return recording_.records.size(); }
  Time end() const;
  const RunState& state() const { return state_; }
  const std::vector<Moment>& moments() const { return moments_; }

  // The state after the first `applied` records (clamped to size()).
  void SeekRecord(size_t applied);
  // The state after every record at or before `t`.
  void SeekTime(Time t);
  // One more record.
  void Step() { SeekRecord(state_.applied + 1); }
  // The state just after the next record that `matches`, from the current one on; false (and
  // nothing moves) when none does.
  bool StepUntil(const std::function<bool(const sim::TraceRecord&)>& matches);
  // The number of records at or before `t`.
  size_t RecordsUpTo(Time t) const;

 private:
  const Recording& recording_;
  const size_t keyframe_every_;
  std::vector<RunState> keyframes_;  // keyframes_[k]: after k * keyframe_every_ records
  std::vector<Moment> moments_;
  RunState state_;
};

// Predicates for Timeline::StepUntil.
bool IsBarrierEvent(const sim::TraceRecord& record);
bool IsCheckpointEnd(const sim::TraceRecord& record);  // completed, aborted, savepoint ends
bool IsFault(const sim::TraceRecord& record);          // injected faults, crashes, restarts

}  // namespace faultline::gui
