// The TaskManager process: registers with the JobManager, runs the tasks it is told to deploy,
// and relays checkpoint triggers and notifications. If it loses the JobManager it cancels its
// tasks (they could only become zombies) and registers again.
#pragma once

#include <map>
#include <memory>

#include "engine/exec/cluster.h"
#include "engine/exec/control_channel.h"
#include "engine/exec/retrying_blob_store.h"
#include "engine/exec/task.h"

namespace faultline::engine {

class TaskManager final : public TaskHost {
 public:
  TaskManager(const runtime::ProcessContext& context, std::shared_ptr<const JobSetup> setup);
  ~TaskManager() override;

  void SendToJobManager(ControlMessage message) override;
  size_t running_tasks() const { return tasks_.size(); }
  // Fails the running task `task` (a plan task index) with `why`; false when it runs no such task.
  bool FailTask(uint32_t task, const Status& why);

 private:
  void Connect();
  void Heartbeat();
  void OnJobManagerLost(const Status& why);
  void OnControl(ControlMessage message);
  void Deploy(const ControlMessage& message);
  void CancelBefore(uint64_t attempt);

  runtime::ProcessContext ctx_;       // its blob_store is retrying_blobs_
  RetryingBlobStore retrying_blobs_;  // retries throttled puts and gets
  std::shared_ptr<const JobSetup> setup_;
  std::unique_ptr<ControlReceiver> receiver_;
  std::unique_ptr<ControlSender> to_job_manager_;
  std::map<uint32_t, std::unique_ptr<Task>> tasks_;
  std::shared_ptr<bool> alive_;
  bool reconnect_scheduled_ = false;
};

}  // namespace faultline::engine
