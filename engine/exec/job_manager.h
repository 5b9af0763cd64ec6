// The JobManager process: deploys the job's tasks onto the registered TaskManagers, runs the
// checkpoint coordinator, detects failures and restarts the job from the latest completed
// checkpoint. Its durable memory is the HA store (the checkpoint id counter and the pointer to
// the latest completed checkpoint) and the blob store (checkpoint metadata), so a new
// JobManager incarnation resumes where the last one left off.
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
#include "engine/exec/control_channel.h"
#include "engine/exec/retrying_blob_store.h"
#include "engine/exec/restart.h"
#include "engine/exec/snapshot.h"

namespace faultline::engine {

enum class JobStatus { kStarting, kRunning, kRestarting, kFinished, kFailed };
std::string_view JobStatusName(JobStatus status);

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
  Duration start_delay_max;   // longest trigger-to-first-barrier over the subtasks
  uint64_t processed_bytes = 0;  // input processed during alignment, over the subtasks
  std::string failure;
  bool final = false;
};

class JobManager final {
 public:
  JobManager(const runtime::ProcessContext& context, std::shared_ptr<const JobSetup> setup);
  ~JobManager();

  JobStatus status() const { return status_; }
  uint64_t attempt() const { return attempt_; }
  uint64_t latest_completed() const { return latest_completed_; }
  const std::vector<CheckpointStats>& history() const { return history_; }
  uint32_t restarts() const { return restarts_; }
  // Why the job failed (empty unless status() is kFailed).
  const std::string& failure() const { return failure_; }

 private:
  struct Pending {
    uint64_t id = 0;
    Time trigger_time;
    bool final = false;
    std::map<uint32_t, TaskSnapshot> acks;
    runtime::TimerId timeout;
    size_t stats_index = 0;
    bool completing = false;
  };

  void ReadHaState();
  void LoadRetained(std::vector<std::string> blobs, size_t next);
  void OnControl(runtime::ChannelId channel, ControlMessage message);
  void OnTaskManagerLost(runtime::NodeId node, const Status& why);
  void DropTaskManager(runtime::NodeId node);
  void CheckHeartbeats();
  void SendTo(runtime::NodeId node, const ControlMessage& message);
  void MaybeDeploy();
  void DeployAll(std::optional<std::map<uint32_t, TaskSnapshot>> restore);
  void FailJob(const std::string& why);
  void Restart(const std::string& why);
  void OnUnreadableCheckpoint(uint64_t id, const std::string& why);
  // Deletes the blobs of a task's snapshot of a checkpoint that will never complete.
  void DiscardState(const TaskSnapshot& snapshot);

  // Coordinator.
  void ScheduleTrigger(Duration delay);
  void TriggerCheckpoint(bool final);
  void OnAck(const ControlMessage& message);
  void OnDecline(const ControlMessage& message);
  void AbortPending(uint64_t id, const std::string& why);
  void Complete(Pending& pending);
  void FinishCompletion(uint64_t id, std::string metadata_blob, uint64_t pointer_version,
                        std::vector<std::string> blobs);
  void CompletedAfterAbandoned(uint64_t id, std::string metadata_blob, uint64_t pointer_version,
                               std::vector<std::string> blobs,
                               std::map<uint32_t, TaskSnapshot> acks);
  void Cleanup();
  // A checkpoint whose metadata is written, on its way to moving the HA pointer.
  struct Completion {
    uint64_t id;
    std::string blob;
    std::vector<std::string> blobs;
    int64_t size;
    std::map<uint32_t, TaskSnapshot> acks;  // kept in case the checkpoint is given up meanwhile
  };
  void NextPointerMove();
  // A declined or expired checkpoint: restarts the job past the tolerable number in a row.
  void CountCheckpointFailure();
  // Triggers the final checkpoint if end of input asked for it while it had to wait.
  void TriggerWantedFinal();

  runtime::ProcessContext ctx_;  // its blob_store is retrying_blobs_
  RetryingBlobStore retrying_blobs_;  // retries throttled puts and gets
  std::shared_ptr<const JobSetup> setup_;
  std::unique_ptr<ControlReceiver> receiver_;
  std::map<runtime::NodeId, std::unique_ptr<ControlSender>> to_task_managers_;
  std::map<runtime::ChannelId, runtime::NodeId> channel_owner_;
  std::shared_ptr<bool> alive_;
  RestartPolicy restart_policy_;
  std::map<runtime::NodeId, Time> last_heartbeat_;

  JobStatus status_ = JobStatus::kStarting;
  std::string failure_;
  bool ha_loaded_ = false;
  uint64_t attempt_ = 0;
  uint32_t restarts_ = 0;
  std::set<uint32_t> running_;
  std::set<uint32_t> ended_;

  // Coordinator state.
  uint64_t counter_version_ = 0;  // HA version of the checkpoint id counter
  uint64_t next_checkpoint_id_ = 1;
  uint64_t pointer_version_ = 0;  // HA version of the latest-completed pointer
  uint64_t latest_completed_ = 0;
  std::string latest_metadata_blob_;
  std::map<uint32_t, TaskSnapshot> latest_state_;          // per task, of latest_completed_
  std::map<uint64_t, std::vector<std::string>> retained_;  // completed id -> its blobs
  std::map<uint64_t, std::map<uint32_t, TaskSnapshot>> retained_states_;  // id -> per task
  std::set<uint64_t> unreadable_;
  std::map<uint64_t, Pending> pending_;
  // Checkpoints this JobManager aborted and discarded: a late acknowledgement's blobs are
  // deleted too.
  std::set<uint64_t> discarded_;
  std::vector<CheckpointStats> history_;
  uint32_t consecutive_failures_ = 0;
  bool trigger_scheduled_ = false;
  bool triggering_ = false;
  bool final_wanted_ = false;  // end of input arrived while another trigger was taking its id
  bool final_checkpoint_done_ = false;
  Time last_completion_;
  std::deque<std::shared_ptr<Completion>> pointer_moves_;  // metadata written, waiting in order
  bool pointer_moving_ = false;
};

}  // namespace faultline::engine
