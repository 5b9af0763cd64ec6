#include "engine/exec/job_manager.h"

#include "engine/exec/events.h"
#include "engine/exec/rescale.h"

namespace faultline::engine {
std::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kStarting:
      return "starting";
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kRestarting:
      return "restarting";
    case JobStatus::kFinished:
      return "finished";
    case JobStatus::kFailed:
      return "failed";
  }
  return "?";
}

JobManager::JobManager(const runtime::ProcessContext& context,
                       std::shared_ptr<const JobSetup> setup)
    : ctx_(context),
      retrying_blobs_(context.blob_store, context.scheduler),
      setup_(std::move(setup)),
      alive_(std::make_shared<bool>(true)),
      restart_policy_(setup_->config.restart) {
  // Every blob operation of this process, the coordinator's metadata writes and reads included,
  // retries a throttled store (the coordinator copies the context: set it first).
  ctx_.blob_store = &retrying_blobs_;
  coordinator_ =
      std::make_unique<CheckpointCoordinator>(ctx_, setup_, static_cast<TaskManagerGateway*>(this),
                                              static_cast<CoordinatorListener*>(this));
  // Attempt numbers name transactions and fence zombie writers, so they must never repeat,
  // across JobManager incarnations too: a new incarnation starts above every earlier one.
  attempt_ = ctx_.incarnation << 24;
  ctx_.scheduler->ScheduleAfter(setup_->config.heartbeat_interval, [this, alive = alive_] {
    if (*alive) CheckHeartbeats();
  });
  receiver_ = std::make_unique<ControlReceiver>(
      ctx_, kControlPort,
      [this](runtime::ChannelId channel, ControlMessage m) { OnControl(channel, std::move(m)); },
      [this](runtime::ChannelId channel, const Status& why) {
        auto it = channel_owner_.find(channel);
        if (it == channel_owner_.end()) return;
        const runtime::NodeId node = it->second;
        channel_owner_.erase(it);
        OnTaskManagerLost(node, why);
      });
  coordinator_->Recover();
}

JobManager::~JobManager() {
  *alive_ = false;
}

// --- what the checkpoint coordinator tells ---------------------------------------------------

void JobManager::OnRecovered() {
  generation_ = coordinator_->latest_generation();
  MaybeDeploy();
}

void JobManager::OnCheckpointCompleted(uint64_t id, bool final) {
  // Even the final checkpoint does not finish the job (FLIP-147): its sinks have not committed
  // yet. The job finishes when every task reports it finished (OnTaskFinished); a failure
  // before then is an ordinary failover, and the restored sinks commit.
  (void)id;
  (void) final;
}

void JobManager::OnTaskFinished(uint32_t task) {
  if (status_ != JobStatus::kRunning) return;
  finished_tasks_.insert(task);
  if (finished_tasks_.size() < setup_->PlanOf(generation_).tasks.size()) return;
  SetStatus(JobStatus::kFinished);
  ctx_.events->Record(MakeEvent(EngineEvent::kJobFinished, setup_->job.name,
                                {.final_checkpoint = static_cast<int64_t>(latest_completed())}));
}

void JobManager::OnTolerableFailuresExceeded(const std::string& why) {
  Restart(why);
}

void JobManager::OnCompletedAfterAbandoned(uint64_t id) {
  // The running attempt did not start from it: restart from it (a restarting job's next
  // deployment restores from it anyway).
  Restart("checkpoint " + std::to_string(id) + " completed after the attempt that took it " +
          "was given up; recovering from it");
}

void JobManager::OnCoordinatorFailed(const std::string& why) {
  FailJob(why);
}

// --- savepoints -----------------------------------------------------------------------------

Status JobManager::TriggerSavepoint(const SavepointRequest& request) {
  if (request.generation >= setup_->generations()) {
    return InvalidArgumentError("no plan generation " + std::to_string(request.generation));
  }
  if (status_ != JobStatus::kRunning) {
    return FailedPreconditionError("the job is " + std::string(JobStatusName(status_)));
  }
  if (savepoint_request_ || resuming_) {
    return FailedPreconditionError("a savepoint is in progress");
  }
  FL_RETURN_IF_ERROR(coordinator_->TriggerSavepoint(request.stop));
  savepoint_request_ = request;
  return Status::Ok();
}

void JobManager::OnSavepointCompleted(uint64_t id, bool stop) {
  (void)stop;
  if (!savepoint_request_) return;
  const SavepointRequest request = *savepoint_request_;
  savepoint_request_.reset();
  if (!request.resume || status_ != JobStatus::kRunning) return;
  // Resume from it: the running attempt goes (a stopped one is finishing: it was notified
  // first, on the same channels, and its sinks commit), the next restores the savepoint.
  const std::string why = "resuming from savepoint " + std::to_string(id) + " at " +
                          GenerationName(request.generation) +
                          (request.claim ? ", claim mode" : ", no-claim mode");
  coordinator_->OnJobRestarting(why);
  CancelAttempts();
  SetStatus(JobStatus::kRestarting);
  ctx_.events->Record(
      MakeEvent(EngineEvent::kJobRestart, why, {.attempt = static_cast<int64_t>(attempt_ + 1)}));
  resuming_ = request;
  coordinator_->ResumeFromSavepoint(id, request.claim);
}

void JobManager::OnSavepointFailed(uint64_t id, bool stop, uint64_t attempt,
                                   const std::string& why) {
  savepoint_request_.reset();
  if (!stop) return;
  // The stopped sources of a failed stop-with-savepoint must run again: fail over (after this
  // step: the coordinator may be aborting it inside a restart already).
  struct Failover {
    uint64_t attempt;
    std::string why;
  };
  auto failover = std::make_shared<Failover>(
      Failover{attempt, "stop-with-savepoint " + std::to_string(id) + " failed: " + why});
  ctx_.scheduler->Post([this, alive = alive_, failover] {
    if (!*alive || status_ != JobStatus::kRunning || failover->attempt != attempt_) return;
    Restart(failover->why);
  });
}

void JobManager::OnResumePrepared(uint64_t id, const std::string& refused) {
  FL_ASSERT(resuming_.has_value(), "a resume prepared that was not asked for");
  const SavepointRequest request = *resuming_;
  resuming_.reset();
  if (refused.empty()) generation_ = request.generation;
  ctx_.events->Record(
      MakeEvent(EngineEvent::kJobResumed,
                refused.empty() ? SavepointMetadataBlobName(id) : "refused: " + refused,
                {.checkpoint = static_cast<int64_t>(id),
                 .generation = generation_,
                 .claim = request.claim && refused.empty() ? 1 : 0}));
  ctx_.scheduler->Post([this, alive = alive_] {
    if (*alive) MaybeDeploy();
  });
}

void JobManager::SetStatus(JobStatus status) {
  status_ = status;
  coordinator_->SetJobRunning(status == JobStatus::kRunning);
}

// --- TaskManagers and deployment ------------------------------------------------------------

void JobManager::SendTo(runtime::NodeId node, const ControlMessage& message) {
  auto it = to_task_managers_.find(node);
  if (it != to_task_managers_.end()) it->second->Send(message);
}

void JobManager::SendToAll(const ControlMessage& message) {
  for (auto& [node, sender] : to_task_managers_) sender->Send(message);
}

void JobManager::OnControl(runtime::ChannelId channel, ControlMessage m) {
  if (m.type == ControlType::kHeartbeat) {
    if (to_task_managers_.count(m.task)) last_heartbeat_[m.task] = ctx_.clock->Now();
    return;
  }
  if (m.type == ControlType::kRegister) {
    const runtime::NodeId node = m.task;
    // A TaskManager registering again (a new incarnation, or one we declared lost) replaces
    // whatever we had for it.
    DropTaskManager(node);
    channel_owner_[channel] = node;
    last_heartbeat_[node] = ctx_.clock->Now();
    to_task_managers_[node] =
        std::make_unique<ControlSender>(ctx_, runtime::Endpoint{node, kControlPort},
                                        [this, node, alive = alive_](const Status& why) {
                                          if (*alive) OnTaskManagerLost(node, why);
                                        });
    MaybeDeploy();
    return;
  }
  if (m.attempt != attempt_) return;  // from a cancelled attempt
  switch (m.type) {
    case ControlType::kTaskRunning:
      coordinator_->OnTaskRunning(m.task);
      return;
    case ControlType::kEndOfInput:
      coordinator_->OnTaskEndOfInput(m.task);
      return;
    case ControlType::kTaskFailed:
      if ((m.flags & kFailedRestoring) != 0 && m.checkpoint_id == latest_completed() &&
          latest_completed() > 0) {
        OnUnreadableCheckpoint(m.checkpoint_id, TaskName(m.task) + ": " + m.text);
        return;
      }
      Restart("task " + TaskName(m.task) + " failed: " + m.text);
      return;
    case ControlType::kAck:
      coordinator_->OnAck(m);
      return;
    case ControlType::kDecline:
      coordinator_->OnDecline(m);
      return;
    case ControlType::kTaskFinished:
      OnTaskFinished(m.task);
      return;
    default:
      return;
  }
}

void JobManager::DropTaskManager(runtime::NodeId node) {
  // Closing both directions tells the TaskManager, if it is still alive (a stalled or
  // partitioned one), that it lost us: it cancels its tasks and registers again.
  to_task_managers_.erase(node);
  last_heartbeat_.erase(node);
  for (auto it = channel_owner_.begin(); it != channel_owner_.end();) {
    if (it->second == node) {
      receiver_->Close(it->first);
      it = channel_owner_.erase(it);
    } else {
      ++it;
    }
  }
}

void JobManager::OnTaskManagerLost(runtime::NodeId node, const Status& why) {
  if (!to_task_managers_.count(node)) return;
  DropTaskManager(node);
  if (status_ == JobStatus::kRunning) {
    Restart("TaskManager on node " + std::to_string(node) + " lost: " + why.ToString());
  }
}

void JobManager::MaybeDeploy() {
  if (!coordinator_->recovered() || resuming_) return;
  if (status_ != JobStatus::kStarting && status_ != JobStatus::kRestarting) return;
  for (runtime::NodeId tm : setup_->cluster.task_managers) {
    if (!to_task_managers_.count(tm)) return;  // wait for every TaskManager
  }
  if (latest_completed() > 0) {
    DeployAll(coordinator_->latest_state());
  } else {
    DeployAll(std::nullopt);
  }
}

void JobManager::DeployAll(std::optional<std::map<uint32_t, TaskSnapshot>> restore) {
  if (restore && coordinator_->latest_generation() != generation_) {
    // Restoring at other parallelisms (a rescale, or a failover after one).
    Result<std::map<uint32_t, TaskSnapshot>> redistributed =
        RedistributeState(*setup_, coordinator_->latest_generation(), generation_, *restore);
    if (!redistributed.ok()) {
      FailJob(redistributed.status()
                  .WithContext("restoring checkpoint " + std::to_string(latest_completed()) +
                               " at " + GenerationName(generation_))
                  .ToString());
      return;
    }
    restore = std::move(*redistributed);
  }
  ++attempt_;
  status_ = JobStatus::kRunning;
  finished_tasks_.clear();
  coordinator_->OnDeployed(attempt_, generation_);
  const uint64_t restored = restore ? latest_completed() : 0;
  ctx_.events->Record(MakeEvent(EngineEvent::kDeployed, setup_->job.name,
                                {.attempt = static_cast<int64_t>(attempt_),
                                 .restored_checkpoint = static_cast<int64_t>(restored),
                                 .generation = generation_}));
  for (const TaskSpec& task : setup_->PlanOf(generation_).tasks) {
    ControlMessage deploy;
    deploy.type = ControlType::kDeploy;
    deploy.task = task.index;
    deploy.attempt = attempt_;
    deploy.checkpoint_id = generation_;
    if (restore) {
      deploy.flags = restored;
      auto it = restore->find(task.index);
      TaskSnapshot snapshot;
      if (it != restore->end()) snapshot = it->second;
      snapshot.task = task.index;
      snapshot.checkpoint_id = restored;
      deploy.payload = EncodeTaskSnapshot(snapshot);
    }
    SendTo(task.node, deploy);
  }
}

std::string JobManager::TaskName(uint32_t task) const {
  const ExecutionPlan& plan = setup_->PlanOf(generation_);
  return task < plan.tasks.size() ? plan.tasks[task].name : "#" + std::to_string(task);
}

std::string JobManager::GenerationName(uint32_t generation) const {
  std::string name = "plan generation " + std::to_string(generation) + " (parallelism";
  const JobGraph& job = setup_->JobOf(generation);
  for (const OperatorSpec& op : job.operators) {
    name += " " + op.name + "=" + std::to_string(op.parallelism);
  }
  return name + ")";
}

Status JobManager::Rescale(uint32_t generation) {
  if (generation >= setup_->generations()) {
    return InvalidArgumentError("no plan generation " + std::to_string(generation));
  }
  if (status_ == JobStatus::kFinished || status_ == JobStatus::kFailed) {
    return FailedPreconditionError("the job is " + std::string(JobStatusName(status_)));
  }
  const uint32_t from = generation_;
  generation_ = generation;
  if (status_ != JobStatus::kRunning || from == generation) return Status::Ok();
  // As a restart, but not a failure: the restart strategy is not consulted and the new
  // attempt deploys at once.
  const std::string why =
      "rescale from " + GenerationName(from) + " to " + GenerationName(generation);
  coordinator_->OnJobRestarting(why);
  CancelAttempts();
  SetStatus(JobStatus::kRestarting);
  ctx_.events->Record(
      MakeEvent(EngineEvent::kJobRestart, why, {.attempt = static_cast<int64_t>(attempt_ + 1)}));
  ctx_.scheduler->Post([this, alive = alive_] {
    if (*alive) MaybeDeploy();
  });
  return Status::Ok();
}

void JobManager::CancelAttempts() {
  ControlMessage cancel;
  cancel.type = ControlType::kCancel;
  cancel.attempt = attempt_ + 1;  // everything older than the next attempt stops
  SendToAll(cancel);
}

void JobManager::FailJob(const std::string& why) {
  SetStatus(JobStatus::kFailed);
  failure_ = why;
  ctx_.events->Record(
      MakeEvent(EngineEvent::kJobFinished, "failed: " + why, {.final_checkpoint = 0}));
}

void JobManager::Restart(const std::string& why) {
  if (status_ != JobStatus::kRunning) return;
  const std::optional<Duration> delay = restart_policy_.OnFailure(ctx_.clock->Now());
  coordinator_->OnJobRestarting(why);
  CancelAttempts();
  if (!delay) {
    FailJob(why + "; " + restart_policy_.reason());
    return;
  }
  SetStatus(JobStatus::kRestarting);
  ++restarts_;
  ctx_.events->Record(
      MakeEvent(EngineEvent::kJobRestart, why, {.attempt = static_cast<int64_t>(attempt_ + 1)}));
  ctx_.scheduler->ScheduleAfter(*delay, [this, alive = alive_] {
    if (*alive) MaybeDeploy();
  });
}

void JobManager::OnUnreadableCheckpoint(uint64_t id, const std::string& why) {
  if (status_ != JobStatus::kRunning) return;
  const uint64_t fallback = coordinator_->OnRestoreFailed(id, why);
  if (fallback == 0) {
    // Cancel the attempt, then stop: nothing is emitted twice, and nothing silently.
    CancelAttempts();
    FailJob("DATA_LOSS: the latest completed checkpoint " + std::to_string(id) +
            " is unreadable (" + why + ")" +
            (setup_->config.unreadable_checkpoint == UnreadableCheckpointPolicy::kFallback
                 ? "; no older readable checkpoint is retained"
                 : "; policy fail"));
    return;
  }
  // Fallback: a reported breach of exactly-once; records after `fallback` will be emitted again.
  Restart("checkpoint " + std::to_string(id) + " unreadable; falling back to checkpoint " +
          std::to_string(fallback) + " (exactly-once breach: output after it is re-emitted)");
}

// --- heartbeats -----------------------------------------------------------------------------

void JobManager::CheckHeartbeats() {
  const Time now = ctx_.clock->Now();
  std::vector<runtime::NodeId> silent;
  for (const auto& [node, sender] : to_task_managers_) {
    auto it = last_heartbeat_.find(node);
    if (it != last_heartbeat_.end() && now - it->second > setup_->config.heartbeat_timeout) {
      silent.push_back(node);
    }
  }
  for (runtime::NodeId node : silent) {
    OnTaskManagerLost(node, DeadlineExceededError("no heartbeat for " +
                                                  setup_->config.heartbeat_timeout.ToString()));
  }
  ctx_.scheduler->ScheduleAfter(setup_->config.heartbeat_interval, [this, alive = alive_] {
    if (*alive) CheckHeartbeats();
  });
}

}  // namespace faultline::engine
