// The JobManager process: deploys the job's tasks onto the registered TaskManagers, detects
// failures (control channels, heartbeats, task reports) and restarts the job from the latest
// completed checkpoint. Its checkpoint coordinator (engine/checkpoint/coordinator.h) takes,
// completes and cleans up checkpoints and recovers them on a new JobManager incarnation; the
// JobManager reports deployments, job status and task messages to it, and relays its control
// messages to the TaskManagers.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/checkpoint/coordinator.h"
#include "engine/exec/cluster.h"
#include "engine/exec/control_channel.h"
#include "engine/exec/restart.h"
#include "engine/exec/retrying_blob_store.h"
#include "engine/exec/snapshot.h"

namespace faultline::engine {

enum class JobStatus { kStarting, kRunning, kRestarting, kFinished, kFailed };
std::string_view JobStatusName(JobStatus status);

class JobManager final : private TaskManagerGateway, private CoordinatorListener {
 public:
  JobManager(const runtime::ProcessContext& context, std::shared_ptr<const JobSetup> setup);
  ~JobManager() override;

  JobStatus status() const { return status_; }
  uint64_t attempt() const { return attempt_; }
  uint64_t latest_completed() const { return coordinator_->latest_completed(); }
  const std::deque<CheckpointStats>& history() const { return coordinator_->history(); }
  uint32_t restarts() const { return restarts_; }
  // Why the job failed (empty unless status() is kFailed).
  const std::string& failure() const { return failure_; }
  // The plan generation the job runs, or will run at its next deployment (JobSetup::rescaled).
  uint32_t generation() const { return generation_; }
  // Rescales the job: it restarts from its latest completed checkpoint at plan generation
  // `generation`, its state redistributed (engine/exec/rescale.h), as Flink's adaptive
  // scheduler rescales. Not a failure: the restart strategy is not consulted. A job not
  // running yet (or restarting) deploys at `generation` next. FailedPrecondition once the job
  // finished or failed; InvalidArgument for a generation the setup does not have.
  Status Rescale(uint32_t generation);
  // An operator's savepoint (`flink savepoint`, or `flink stop` when `stop`): see
  // CheckpointCoordinator::TriggerSavepoint. With `resume`, once it completes the job resumes
  // from it, as a resubmission with `-s`: the running attempt is cancelled (an intermediate
  // savepoint) or has stopped, and the next one restores the savepoint at plan generation
  // `generation` (its parallelisms and state backend), its state redistributed, owning the
  // savepoint's files if `claim` (Flink's claim mode; otherwise no-claim). A stop-with-savepoint
  // without resume ends the job (finished, its output committed up to the savepoint). The
  // request dies with this JobManager; a failed stop-with-savepoint fails the job over (as
  // Flink's FLINK-21030), so its stopped sources run again. FailedPrecondition unless the job
  // runs and no savepoint is in progress; InvalidArgument for an unknown generation.
  struct SavepointRequest {
    bool stop = false;
    bool resume = false;
    uint32_t generation = 0;
    bool claim = false;
  };
  Status TriggerSavepoint(const SavepointRequest& request);
  const CheckpointCoordinator& coordinator() const { return *coordinator_; }
  CheckpointCoordinator& coordinator() { return *coordinator_; }

 private:
  // TaskManagerGateway.
  void SendTo(runtime::NodeId node, const ControlMessage& message) override;
  void SendToAll(const ControlMessage& message) override;
  // CoordinatorListener.
  void OnRecovered() override;
  void OnCheckpointCompleted(uint64_t id, bool final) override;
  void OnTolerableFailuresExceeded(const std::string& why) override;
  void OnCompletedAfterAbandoned(uint64_t id) override;
  void OnCoordinatorFailed(const std::string& why) override;
  void OnSavepointCompleted(uint64_t id, bool stop) override;
  void OnSavepointFailed(uint64_t id, bool stop, uint64_t attempt, const std::string& why) override;
  void OnResumePrepared(uint64_t id, const std::string& refused) override;

  void SetStatus(JobStatus status);
  std::string TaskName(uint32_t task) const;  // of the current generation's plan
  std::string GenerationName(uint32_t generation) const;
  void OnControl(runtime::ChannelId channel, ControlMessage message);
  void OnTaskManagerLost(runtime::NodeId node, const Status& why);
  void DropTaskManager(runtime::NodeId node);
  void CheckHeartbeats();
  void MaybeDeploy();
  void DeployAll(std::optional<std::map<uint32_t, TaskSnapshot>> restore);
  void CancelAttempts();
  void FailJob(const std::string& why);
  void Restart(const std::string& why);
  void OnUnreadableCheckpoint(uint64_t id, const std::string& why);
  // FLIP-147: the job is finished once every task of the attempt finished (each after the
  // final checkpoint's notification, its sink committed).
  void OnTaskFinished(uint32_t task);

  runtime::ProcessContext ctx_;       // its blob_store is retrying_blobs_
  RetryingBlobStore retrying_blobs_;  // retries throttled puts and gets
  std::shared_ptr<const JobSetup> setup_;
  std::unique_ptr<CheckpointCoordinator> coordinator_;
  std::unique_ptr<ControlReceiver> receiver_;
  std::map<runtime::NodeId, std::unique_ptr<ControlSender>> to_task_managers_;
  std::map<runtime::ChannelId, runtime::NodeId> channel_owner_;
  std::shared_ptr<bool> alive_;
  RestartPolicy restart_policy_;
  std::map<runtime::NodeId, Time> last_heartbeat_;

  JobStatus status_ = JobStatus::kStarting;
  std::string failure_;
  uint64_t attempt_ = 0;
  // The plan generation of the next or current deployment. A new JobManager incarnation starts
  // at the latest completed checkpoint's (a rescale no checkpoint followed is lost with it).
  uint32_t generation_ = 0;
  uint32_t restarts_ = 0;
  std::set<uint32_t> finished_tasks_;                  // tasks of the attempt that finished
  std::optional<SavepointRequest> savepoint_request_;  // requested, not completed or failed yet
  // A resume waits for the HA pointer to name its savepoint; nothing deploys meanwhile.
  std::optional<SavepointRequest> resuming_;
};

}  // namespace faultline::engine
