#include "engine/exec/task_manager.h"

#include <algorithm>

#include "engine/exec/snapshot.h"

namespace faultline::engine {

TaskManager::TaskManager(const runtime::ProcessContext& context,
                         std::shared_ptr<const JobSetup> setup)
    : ctx_(context),
      retrying_blobs_(context.blob_store, context.scheduler),
      setup_(std::move(setup)),
      alive_(std::make_shared<bool>(true)) {
  ctx_.blob_store = &retrying_blobs_;
  receiver_ = std::make_unique<ControlReceiver>(
      ctx_, kControlPort, [this](runtime::ChannelId, ControlMessage m) { OnControl(std::move(m)); },
      [this](runtime::ChannelId, const Status& why) {
        // The JobManager's channel to us failed or was closed (it declared us lost).
        OnJobManagerLost(why);
      });
  Connect();
  Heartbeat();
}

void TaskManager::Heartbeat() {
  ControlMessage beat;
  beat.type = ControlType::kHeartbeat;
  beat.task = ctx_.node;
  SendToJobManager(beat);
  ctx_.scheduler->ScheduleAfter(setup_->config.heartbeat_interval, [this, alive = alive_] {
    if (*alive) Heartbeat();
  });
}

void TaskManager::OnJobManagerLost(const Status& why) {
  (void)why;
  if (reconnect_scheduled_) return;
  // Lost the JobManager: tasks cannot report or be coordinated (they could only become
  // zombies); cancel them and register again.
  tasks_.clear();
  reconnect_scheduled_ = true;
  ctx_.scheduler->ScheduleAfter(setup_->config.connect_retry * 5, [this, alive = alive_] {
    if (!*alive) return;
    reconnect_scheduled_ = false;
    Connect();
  });
}

TaskManager::~TaskManager() {
  *alive_ = false;
  tasks_.clear();
}

void TaskManager::Connect() {
  to_job_manager_ = std::make_unique<ControlSender>(
      ctx_, runtime::Endpoint{setup_->cluster.job_manager, kControlPort},
      [this, alive = alive_](const Status& why) {
        if (*alive) OnJobManagerLost(why);
      });
  ControlMessage hello;
  hello.type = ControlType::kRegister;
  hello.task = ctx_.node;
  hello.attempt = ctx_.incarnation;
  to_job_manager_->Send(hello);
}

void TaskManager::SendToJobManager(ControlMessage message) {
  if (to_job_manager_) to_job_manager_->Send(message);
}

void TaskManager::OnControl(ControlMessage m) {
  switch (m.type) {
    case ControlType::kDeploy:
      Deploy(m);
      return;
    case ControlType::kTrigger: {
      auto it = tasks_.find(m.task);
      if (it != tasks_.end() && it->second->attempt() == m.attempt) {
        it->second->TriggerCheckpoint(
            BarrierInfo{.checkpoint_id = m.checkpoint_id,
                        .unaligned = (m.flags & 1) != 0,
                        .final = (m.flags & 2) != 0,
                        .timestamp = Time::Zero() + Duration::Nanos(m.time_ns),
                        .savepoint = (m.flags & kTriggerSavepoint) != 0,
                        .stop = (m.flags & kTriggerStop) != 0});
      }
      return;
    }
    case ControlType::kNotifyComplete:
      for (auto& [index, task] : tasks_) {
        if (task->attempt() == m.attempt) {
          task->NotifyCheckpointComplete(m.checkpoint_id, (m.flags & kNotifyFinal) != 0,
                                         (m.flags & kNotifyStop) != 0);
        }
      }
      return;
    case ControlType::kNotifyAborted:
      for (auto& [index, task] : tasks_) {
        if (task->attempt() == m.attempt) task->NotifyCheckpointAborted(m.checkpoint_id);
      }
      return;
    case ControlType::kCancel:
      CancelBefore(m.attempt);
      return;
    case ControlType::kFinish:
      tasks_.clear();
      return;
    default:
      return;  // not for a TaskManager
  }
}

bool TaskManager::FailTask(uint32_t task, const Status& why) {
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return false;
  it->second->InjectFailure(why);
  return true;
}

void TaskManager::CancelBefore(uint64_t attempt) {
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    it = it->second->attempt() < attempt ? tasks_.erase(it) : std::next(it);
  }
}

void TaskManager::Deploy(const ControlMessage& m) {
  CancelBefore(m.attempt);
  TaskSetup task_setup;
  // The deployment names its plan generation (0 unless the job was rescaled).
  const uint64_t generation = m.checkpoint_id;
  if (generation >= setup_->generations() ||
      m.task >= setup_->PlanOf(static_cast<uint32_t>(generation)).tasks.size()) {
    ControlMessage failed;
    failed.type = ControlType::kTaskFailed;
    failed.task = m.task;
    failed.attempt = m.attempt;
    failed.text = "deploy message: no task " + std::to_string(m.task) + " in plan generation " +
                  std::to_string(generation);
    SendToJobManager(std::move(failed));
    return;
  }
  task_setup.job = &setup_->JobOf(static_cast<uint32_t>(generation));
  task_setup.plan = &setup_->PlanOf(static_cast<uint32_t>(generation));
  for (uint32_t g = 0; g < setup_->generations(); ++g) {
    const JobGraph& job = setup_->JobOf(g);
    task_setup.sink_writers = std::max(task_setup.sink_writers, job.operators.back().parallelism);
  }
  task_setup.config = &setup_->config;
  task_setup.state_backend = &setup_->StateBackendOf(static_cast<uint32_t>(generation));
  task_setup.task = m.task;
  task_setup.attempt = m.attempt;
  task_setup.context = ctx_;
  task_setup.host = this;
  if (!m.payload.empty()) {
    Result<TaskSnapshot> restore = DecodeTaskSnapshot(m.payload);
    if (!restore.ok()) {
      ControlMessage failed;
      failed.type = ControlType::kTaskFailed;
      failed.task = m.task;
      failed.attempt = m.attempt;
      failed.text = restore.status().WithContext("deploy message").ToString();
      SendToJobManager(std::move(failed));
      return;
    }
    task_setup.restore = std::move(*restore);
  }
  tasks_.erase(m.task);  // a redeploy of the same task replaces it
  auto task = std::make_unique<Task>(std::move(task_setup));
  Task* raw = task.get();
  tasks_[m.task] = std::move(task);
  raw->Start();
}

}  // namespace faultline::engine
