// The checkpoint coordinator, as Flink's CheckpointCoordinator: it runs on the JobManager and owns
// everything about checkpoints there. It takes checkpoint ids durably (the HA counter), triggers
// checkpoints (interval, max concurrent, min pause, the final checkpoint after end of input),
// collects acknowledgements and declines, completes a checkpoint (metadata blob, then the HA
// pointer moves in order, then the notification), aborts expired, declined and subsumed ones
// (discarding their state, late acknowledgements included), keeps the newest `retained`
// completed checkpoints, and keeps statistics. On a new JobManager incarnation it recovers the
// latest completed checkpoint and the retained ones from the HA store and the blob store.
//
// It reaches the world only through its ProcessContext (clock, timers, HA store, blob store,
// events) and reaches the TaskManagers through a TaskManagerGateway (the JobManager owns the
// control channels). It tells the JobManager what it must act on through a CoordinatorListener;
// the JobManager tells it about deployments, job status and task messages.
//
// Checkpoint completion follows Flink: when every task acknowledged checkpoint n, the metadata
// blob is written, then the HA pointer moves to n (the moment of completion), then tasks are
// notified (two-phase-commit sinks commit n and every earlier pending transaction).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/exec/cluster.h"
#include "engine/exec/snapshot.h"
#include "engine/exec/wire.h"
#include "engine/runtime/runtime.h"

namespace faultline::engine {

// One checkpoint's statistics, as Flink's web UI shows them.
struct CheckpointStats {
  uint64_t id = 0;
  enum class Status { kInProgress, kCompleted, kFailed } status = Status::kInProgress;
  Time trigger_time;
  Time end_time;
  uint32_t acknowledged = 0;
  uint32_t tasks = 0;
  uint64_t state_bytes = 0;
  Duration alignment_max;  // longest alignment (first to last barrier) over the subtasks
  Duration async_max;      // longest asynchronous part (barrier to durable upload)
  uint64_t persisted_in_flight_bytes = 0;  // unaligned: channel state
  Duration start_delay_max;                // longest trigger-to-first-barrier over the subtasks
  uint64_t processed_bytes = 0;            // input processed during alignment, over the subtasks
  std::string failure;
  bool final = false;
};

// How the coordinator reaches the TaskManagers (the JobManager owns the control channels).
class TaskManagerGateway {
 public:
  virtual ~TaskManagerGateway() = default;
  // To the TaskManager on `node`; dropped if it is not registered.
  virtual void SendTo(runtime::NodeId node, const ControlMessage& message) = 0;
  // To every registered TaskManager, in node order.
  virtual void SendToAll(const ControlMessage& message) = 0;
};

// What the coordinator tells the JobManager, at the moments named. The JobManager may call the
// coordinator back from these (a restart aborts every pending checkpoint).
class CoordinatorListener {
 public:
  virtual ~CoordinatorListener() = default;
  // The durable state is read (Recover): the job may deploy, from latest_completed() if > 0.
  virtual void OnRecovered() = 0;
  // Checkpoint `id` completed: the HA pointer moved, the tasks were notified, cleanup ran.
  // `final`: the final checkpoint after end of input. The job is not done yet: each task
  // finishes once it got the notification and its sink committed (FLIP-147, kTaskFinished).
  virtual void OnCheckpointCompleted(uint64_t id, bool final) = 0;
  // More consecutive declined or expired checkpoints than tolerable: the job restarts.
  virtual void OnTolerableFailuresExceeded(const std::string& why) = 0;
  // The HA pointer moved to `id` after the coordinator had given it up (a restart raced the
  // compare-and-set), and `id` is newer than the restore point: the job restarts from it.
  virtual void OnCompletedAfterAbandoned(uint64_t id) = 0;
  // The coordinator cannot go on (its durable state is unreadable or lost, or another
  // JobManager took a checkpoint id): the job fails with `why`.
  virtual void OnCoordinatorFailed(const std::string& why) = 0;
  // Savepoint `id` completed: its metadata is written (a stop-with-savepoint's HA pointer also
  // moved to it, and its tasks were notified: they commit and finish).
  virtual void OnSavepointCompleted(uint64_t id, bool stop) {
    (void)id;
    (void)stop;
  }
  // The savepoint requested while attempt `attempt` ran failed (declined, expired, its
  // metadata unwritable, or the job restarted first; `id` 0: before it took an id).
  virtual void OnSavepointFailed(uint64_t id, bool stop, uint64_t attempt, const std::string& why) {
    (void)id;
    (void)stop;
    (void)attempt;
    (void)why;
  }
  // ResumeFromSavepoint(id) is done: the HA pointer names savepoint `id` and it is the restore
  // point (`refused` empty), or it could not be (`refused` says why; nothing changed).
  virtual void OnResumePrepared(uint64_t id, const std::string& refused) {
    (void)id;
    (void)refused;
  }
};

// Test seam: a mistake planted in recovery, so tests can show REC judges what a restore read
// rather than what the engine reports (tests/planted_recovery_bug_test.cc). kNone outside that
// test. kRestoresPreviousAsLatest: a JobManager recovering from the HA store restores the
// retained checkpoint before the latest one while labelling it (and reporting it) as the latest.
enum class PlantedRecoveryBug : uint8_t { kNone, kRestoresPreviousAsLatest };
void SetPlantedRecoveryBugForTesting(PlantedRecoveryBug bug);

// The protocol's invariants are asserted where they live (FL_ASSERT, on in release builds):
// checkpoint ids only grow; a checkpoint completes only with an acknowledgement from every task
// of the plan, each from that task for that checkpoint; the latest completed checkpoint never
// goes down on a completion; the HA pointer moves in order (ids and versions grow); every
// collection stays within its bound (CheckBounds).
class CheckpointCoordinator final {
 public:
  // `gateway` and `listener` (the JobManager) outlive the coordinator.
  CheckpointCoordinator(const runtime::ProcessContext& context,
                        std::shared_ptr<const JobSetup> setup, TaskManagerGateway* gateway,
                        CoordinatorListener* listener);
  ~CheckpointCoordinator();
  CheckpointCoordinator(const CheckpointCoordinator&) = delete;
  CheckpointCoordinator& operator=(const CheckpointCoordinator&) = delete;

  // Reads the id counter, the HA pointer and the retained checkpoints' metadata, then calls
  // OnRecovered (or OnCoordinatorFailed).
  void Recover();

  // --- what the JobManager tells it ---
  // Attempt `attempt` was deployed: no task of it runs yet.
  // It runs plan generation `generation` (JobSetup::rescaled; 0: the job as submitted).
  void OnDeployed(uint64_t attempt, uint32_t generation = 0);
  // Whether the job is running (JobStatus::kRunning); checkpoints are taken only then.
  void SetJobRunning(bool running);
  void OnTaskRunning(uint32_t task);
  void OnTaskEndOfInput(uint32_t task);
  void OnAck(const ControlMessage& message);
  void OnDecline(const ControlMessage& message);
  // The job restarts: every pending checkpoint is aborted (under the restore-latest-attempt
  // switch, the newest one first becomes the restore point).
  void OnJobRestarting(const std::string& why);
  // A task could not restore checkpoint `id` (the restore point). Marks it unreadable and
  // returns the checkpoint to fall back to, which becomes the restore point (0: none; the
  // unreadable-checkpoint policy or the retained checkpoints allow none).
  uint64_t OnRestoreFailed(uint64_t id, const std::string& why);

  // --- savepoints ---
  // Triggers a savepoint, as Flink's `flink savepoint` (`stop`: `flink stop`): an aligned
  // snapshot in the canonical format (full keyed state whatever the backend), every blob under
  // savepoints/sp-<id>/, its id from the checkpoint counter. It is not held back by max
  // concurrent or the min pause, no checkpoint subsumes it, and its failure never counts toward
  // the tolerable checkpoint failures. An intermediate savepoint is not a restore point and is
  // never notified: sinks commit nothing at it (Flink 1.15+, FLINK-10354). A stop-with-savepoint
  // is both: its sources emit nothing after its barrier, no checkpoint is triggered after it,
  // the HA pointer moves to it, and its notification makes every task commit and finish.
  // Savepoints belong to the user: cleanup never deletes one unless a job resumed from it in
  // claim mode. FailedPrecondition when the job is not running with every task, its input
  // ended, another savepoint is in progress, or the checkpoints are unaligned.
  Status TriggerSavepoint(bool stop);
  // Makes completed savepoint `id` (taken by this coordinator) the restore point of the job
  // resumed from it, as a new submission with `-s`: the HA pointer names it alone, the old
  // job's checkpoints are deleted (savepoints the user owns stay), and in claim mode the job
  // owns it (cleanup deletes it once subsumed); in no-claim mode it never deletes it (and the
  // first checkpoint after it shares no file with it: it is canonical). The JobManager has
  // restarted the job first. Refused when a checkpoint completed after it (resuming would
  // rewind committed output). Calls OnResumePrepared.
  void ResumeFromSavepoint(uint64_t id, bool claim);
  // Whether a savepoint was requested or is pending.
  bool savepoint_in_progress() const;

  // --- what it knows ---
  bool recovered() const { return recovered_; }
  // The restore point: the latest completed checkpoint, unless recovery fell back to an older
  // one (or the restore-latest-attempt switch adopted a pending one). 0: none.
  uint64_t latest_completed() const { return latest_completed_; }
  // Per task, the state of latest_completed().
  const std::map<uint32_t, TaskSnapshot>& latest_state() const { return latest_state_; }
  // The plan generation that took latest_completed() (its task indices are latest_state()'s).
  uint32_t latest_generation() const {
    auto it = generations_.find(latest_completed_);
    return it == generations_.end() ? 0 : it->second;
  }
  // The generation of the deployed attempt.
  uint32_t generation() const { return generation_; }
  // Statistics of the checkpoints in progress and of the latest `CheckpointConfig::history`
  // finished ones, in trigger order.
  const std::deque<CheckpointStats>& history() const { return history_; }
  // Aborted checkpoints whose discarded state late acknowledgements may still add to. At most
  // kMaxDiscarded: beyond, the oldest is forgotten (a late acknowledgement of it leaves its
  // blobs in the store, as garbage, not a loss).
  static constexpr size_t kMaxDiscarded = 256;
  size_t discarded() const { return discarded_.size(); }

 private:
  // The test seam: tests/coordinator_invariants_test.cc breaks each invariant through it.
  friend class CoordinatorTestPeer;

  struct Pending {
    uint64_t id = 0;
    Time trigger_time;
    bool final = false;
    std::map<uint32_t, TaskSnapshot> acks;
    runtime::TimerId timeout;
    bool completing = false;
    uint32_t generation = 0;  // of the attempt that triggered it
    bool savepoint = false;
    bool stop = false;  // a stop-with-savepoint
  };
  // A checkpoint whose metadata is written, on its way to moving the HA pointer.
  struct Completion {
    uint64_t id;
    std::string blob;
    std::vector<std::string> blobs;
    int64_t size;
    std::map<uint32_t, TaskSnapshot> acks;  // kept in case the checkpoint is given up meanwhile
    uint32_t generation = 0;
    // ResumeFromSavepoint: the pointer moves to savepoint `id` as the resumed job's start.
    bool adopt = false;
    bool claim = false;
  };
  // A savepoint this coordinator completed, which a resume may start from.
  struct CompletedSavepoint {
    std::string metadata_blob;
    std::vector<std::string> blobs;  // referenced, the metadata blob last
    std::map<uint32_t, TaskSnapshot> states;
    uint32_t generation = 0;
  };
  static constexpr size_t kMaxSavepoints = 4;

  // Recovery.
  void ReadPointer();
  void LoadRetained(std::vector<std::string> blobs, size_t next);
  void FinishRecovery();
  // Triggering.
  const ExecutionPlan& plan() const { return setup_->PlanOf(generation_); }
  bool AllRunning() const { return running_.size() == plan().tasks.size(); }
  bool AllEnded() const { return ended_.size() == plan().tasks.size(); }
  void ScheduleTrigger(Duration delay);
  void TriggerCheckpoint(bool final);
  // A periodic trigger blocked by max concurrent, min pause or an id being taken waits as the
  // queued request (at most one, as Flink's CheckpointRequestDecider drops duplicates of
  // periodic requests); it fires when the blocking checkpoint ends or the pause elapses.
  void QueuePeriodic();
  // Fires the queued request right after the current step, unless the final checkpoint waits
  // (it goes first) or the job ended, stopped or restarts; blocked again, it stays queued.
  void TriggerQueued();
  void OnIdTaken(uint64_t id, bool final, uint64_t attempt, Result<uint64_t> version,
                 bool savepoint = false, bool stop = false);
  void SendTriggers(uint64_t id, bool final, bool savepoint = false, bool stop = false);
  // Takes the requested savepoint's id, unless another id is being taken (it follows).
  void StartWantedSavepoint();
  // Takes the next id from the HA counter, then calls OnIdTaken.
  void TakeId(bool final, bool savepoint, bool stop);
  // An intermediate savepoint's completion once Complete wrote its metadata: no pointer move,
  // no notification. `blobs` ends with the metadata blob.
  void FinishSavepoint(uint64_t id, const std::string& metadata_blob,
                       std::vector<std::string> blobs);
  void RememberSavepoint(uint64_t id, const std::string& metadata_blob,
                         std::vector<std::string> blobs, std::map<uint32_t, TaskSnapshot> states,
                         uint32_t generation);
  void AdoptSavepoint(const Completion& c, uint64_t version);
  // The metadata blob of retained checkpoint (or savepoint) `id`.
  const std::string& RetainedMetadataBlob(uint64_t id) const { return retained_.at(id).back(); }
  // Triggers the final checkpoint if end of input asked for it while it had to wait.
  void TriggerWantedFinal();
  // Statistics.
  CheckpointStats& StatsOf(uint64_t id);
  // Forgets the oldest finished checkpoints' statistics beyond the configured number.
  void TrimHistory();
  // Aborting.
  void AbortPending(uint64_t id, const std::string& why);
  // Remembers an aborted checkpoint's discarded state: `answered` tasks acknowledged it.
  void RememberDiscarded(uint64_t id, const std::map<uint32_t, TaskSnapshot>& answered);
  // A task answered (acknowledged or declined) a checkpoint after it was aborted.
  void LateAnswer(uint64_t id, uint32_t task);
  // A declined or expired checkpoint: restarts the job past the tolerable number in a row.
  void CountCheckpointFailure();
  // Deletes the blobs of a task's snapshot of a checkpoint that will never complete.
  // Deletes the state of checkpoint `id` that no other checkpoint holds.
  void DiscardState(const TaskSnapshot& snapshot, uint64_t id);
  // The shared-state registry, counted when asked: the shared blobs (checkpoints/shared/) that
  // a retained checkpoint other than `except`, or an acknowledgement of a pending one other
  // than `except`, references. Only those outlive the checkpoint that uploaded them.
  std::set<std::string> HeldSharedBlobs(uint64_t except) const;
  // Completion.
  void CheckEveryTaskAcknowledged(const Pending& pending) const;
  void Complete(Pending& pending);
  void NextPointerMove();
  void MovePointer(std::shared_ptr<Completion> c);
  // The compare-and-set moved the HA pointer to `id`, at `version`.
  void PointerMoved(uint64_t id, uint64_t version);
  void FinishCompletion(uint64_t id, std::string metadata_blob, uint64_t pointer_version,
                        std::vector<std::string> blobs);
  void CompletedAfterAbandoned(uint64_t id, std::string metadata_blob, uint64_t pointer_version,
                               std::vector<std::string> blobs,
                               std::map<uint32_t, TaskSnapshot> acks, uint32_t generation);
  void NotifyTasks(ControlType type, uint64_t id, uint64_t flags = 0);
  // After final checkpoint `id` completed: while the tasks of the attempt have not all finished
  // an interval later (a notification lost), another final checkpoint is taken; its
  // notification subsumes the lost one (FLIP-147: tasks wait for the next checkpoint).
  void ScheduleFinalRetry(uint64_t id);
  // After stop-with-savepoint `id` completed: while the attempt still runs an interval later (a
  // notification lost), the notification is sent again (committing and finishing are idempotent).
  void ScheduleStopRetry(uint64_t id);
  void Cleanup();
  // Every collection within its bound (FL_ASSERT).
  void CheckBounds() const;

  runtime::ProcessContext ctx_;
  std::shared_ptr<const JobSetup> setup_;
  TaskManagerGateway* gateway_;
  CoordinatorListener* listener_;
  std::shared_ptr<bool> alive_;

  // The job as the JobManager reported it.
  bool job_running_ = false;
  uint64_t attempt_ = 0;
  uint32_t generation_ = 0;     // the attempt's plan generation
  std::set<uint32_t> running_;  // tasks of the attempt that reported running
  std::set<uint32_t> ended_;    // tasks of the attempt that reached end of input

  bool recovered_ = false;
  // Pause before reading a retained checkpoint's metadata again after a transient error: doubles
  // from connect_retry up to 5 x connect_retry, so recovery resumes soon after the store does.
  Duration recovery_retry_ = Duration::Zero();
  uint64_t counter_version_ = 0;  // HA version of the checkpoint id counter
  uint64_t next_checkpoint_id_ = 1;
  uint64_t last_triggered_ = 0;     // the newest id this coordinator took
  uint64_t last_pointer_move_ = 0;  // the newest id the HA pointer named (read or moved here)
  uint64_t pointer_version_ = 0;    // HA version of the latest-completed pointer
  uint64_t latest_completed_ = 0;
  std::string latest_metadata_blob_;
  std::map<uint32_t, TaskSnapshot> latest_state_;          // per task, of latest_completed_
  std::map<uint64_t, std::vector<std::string>> retained_;  // completed id -> its blobs
  std::map<uint64_t, std::map<uint32_t, TaskSnapshot>> retained_states_;  // id -> per task
  std::map<uint64_t, uint32_t> generations_;  // retained (and restore point) id -> generation
  std::set<uint64_t> unreadable_;
  std::map<uint64_t, Pending> pending_;
  // Checkpoints this coordinator aborted and discarded in the running attempt, each with the
  // tasks that have not answered it yet: a late acknowledgement's blobs are deleted too. An
  // entry goes when every task answered, or with the attempt (the JobManager drops messages of
  // earlier attempts); at most kMaxDiscarded.
  std::map<uint64_t, std::set<uint32_t>> discarded_;
  std::deque<CheckpointStats> history_;
  uint32_t consecutive_failures_ = 0;
  bool trigger_scheduled_ = false;
  bool periodic_queued_ = false;        // a periodic trigger request waits (QueuePeriodic)
  bool pause_timer_scheduled_ = false;  // the queued request fires when the min pause ends
  bool queued_trigger_posted_ = false;  // TriggerQueued's step is posted
  bool triggering_ = false;
  bool final_wanted_ = false;  // end of input arrived while another trigger was taking its id
  Time last_completion_;
  std::deque<std::shared_ptr<Completion>> pointer_moves_;  // metadata written, waiting in order
  bool pointer_moving_ = false;
  std::optional<bool> savepoint_wanted_;  // requested, waiting for its id (true: stop)
  uint64_t savepoint_attempt_ = 0;        // the attempt it was requested in
  // A stop-with-savepoint is pending or completed in the running attempt: no checkpoint is
  // triggered any more.
  bool stopping_ = false;
  std::map<uint64_t, CompletedSavepoint> savepoints_;  // the newest kMaxSavepoints
  std::set<uint64_t> claimed_;  // retained savepoints the job owns (HaPointer)
};

}  // namespace faultline::engine
