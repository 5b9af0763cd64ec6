#include "engine/exec/job_manager.h"

#include <algorithm>

#include "base/assert.h"
#include "engine/checkpoint/metadata.h"
#include "engine/exec/events.h"
#include "engine/proto/checkpoint.pb.h"
#include "engine/state/key_groups.h"

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
  ctx_.blob_store = &retrying_blobs_;
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
  ReadHaState();
}

JobManager::~JobManager() {
  *alive_ = false;
}

// --- recovering the coordinator's durable state ---------------------------------------------

void JobManager::ReadHaState() {
  ctx_.ha_store->Read(HaCounterKey(*setup_), [this, alive = alive_](auto counter) {
    if (!*alive) return;
    if (!counter.ok()) {
      FailJob(counter.status().WithContext("reading the checkpoint counter").ToString());
      return;
    }
    counter_version_ = counter->version;
    if (counter->version > 0) {
      ByteReader in(counter->value);
      next_checkpoint_id_ = in.U64().value_or(0) + 1;
    }
    ctx_.ha_store->Read(HaPointerKey(*setup_), [this, alive](auto pointer) {
      if (!*alive) return;
      if (!pointer.ok()) {
        FailJob(pointer.status().WithContext("reading the latest checkpoint pointer").ToString());
        return;
      }
      pointer_version_ = pointer->version;
      if (pointer->version == 0) {
        ha_loaded_ = true;
        MaybeDeploy();
        return;
      }
      Result<proto::HaPointer> decoded = DecodeHaPointer(pointer->value, HaPointerKey(*setup_));
      if (!decoded.ok()) {
        FailJob(decoded.status().ToString());
        return;
      }
      latest_completed_ = decoded->latest_completed_checkpoint_id();
      latest_metadata_blob_ = decoded->latest_metadata_blob();
      std::vector<std::string> retained(decoded->retained_metadata_blobs().begin(),
                                        decoded->retained_metadata_blobs().end());
      if (retained.empty()) retained.push_back(latest_metadata_blob_);
      LoadRetained(std::move(retained), 0);
    });
  });
}

void JobManager::LoadRetained(std::vector<std::string> blobs, size_t next) {
  // Reads the retained checkpoints' metadata one by one, then deploys.
  if (next == blobs.size()) {
    if (!retained_states_.count(latest_completed_)) {
      const uint64_t unreadable = latest_completed_;
      const bool fallback =
          setup_->config.unreadable_checkpoint == UnreadableCheckpointPolicy::kFallback &&
          !retained_states_.empty();
      ctx_.events->Record(
          {Ev(EngineEvent::kCheckpointUnreadable),
           {static_cast<int64_t>(unreadable),
            fallback ? static_cast<int64_t>(retained_states_.rbegin()->first) : 0, 0},
           "metadata of the latest completed checkpoint is unreadable"});
      if (!fallback) {
        FailJob("DATA_LOSS: the metadata of the latest completed checkpoint " +
                std::to_string(unreadable) + " is unreadable");
        return;
      }
      unreadable_.insert(unreadable);
      latest_completed_ = retained_states_.rbegin()->first;
    }
    latest_state_ = retained_states_[latest_completed_];
    ha_loaded_ = true;
    MaybeDeploy();
    return;
  }
  const std::string blob = blobs[next];
  auto pending = std::make_shared<std::vector<std::string>>(std::move(blobs));
  ctx_.blob_store->Get(blob, [this, alive = alive_, pending, next](Result<Bytes> data) {
    if (!*alive) return;
    const std::string& name = (*pending)[next];
    if (!data.ok() && data.status().code() != StatusCode::kNotFound &&
        data.status().code() != StatusCode::kDataLoss) {
      // A transient error (the store unavailable, a timeout) says nothing about the checkpoint:
      // read it again shortly.
      struct Retry {
        std::vector<std::string> blobs;
        size_t next;
      };
      auto retry = std::make_shared<Retry>(Retry{std::move(*pending), next});
      ctx_.scheduler->ScheduleAfter(setup_->config.heartbeat_interval,
                                    [this, alive = alive_, retry] {
                                      if (*alive) LoadRetained(std::move(retry->blobs), retry->next);
                                    });
      return;
    }
    Result<proto::CheckpointMetadata> metadata =
        data.ok() ? DecodeMetadata(*data, name) : Result<proto::CheckpointMetadata>(data.status());
    if (!metadata.ok()) {
      // Unreadable: never restored from. If it is the latest, the unreadable-checkpoint policy
      // decides once every retained checkpoint was tried.
      LoadRetained(std::move(*pending), next + 1);
      return;
    }
    const uint64_t id = metadata->checkpoint_id();
    std::map<uint32_t, TaskSnapshot>& state = retained_states_[id];
    for (const proto::OperatorState& op : metadata->operators()) {
      for (const proto::SubtaskState& sub : op.subtasks()) {
        TaskSnapshot snapshot;
        snapshot.task = sub.task();
        snapshot.checkpoint_id = id;
        snapshot.state_digest = sub.state_digest();
        for (const proto::StateHandle& h : sub.keyed_state()) {
          snapshot.handles.push_back(
              BlobHandle{HandleKind::kKeyed, h.blob_name(), h.size_bytes(), h.checksum()});
        }
        for (const proto::StateHandle& h : sub.operator_state()) {
          snapshot.handles.push_back(
              BlobHandle{HandleKind::kOperator, h.blob_name(), h.size_bytes(), h.checksum()});
        }
        for (const proto::ChannelStateHandle& h : sub.input_channel_state()) {
          snapshot.handles.push_back(
              BlobHandle{HandleKind::kInputChannel, h.blob_name(), h.size_bytes(), h.checksum()});
        }
        for (const proto::ChannelStateHandle& h : sub.output_channel_state()) {
          snapshot.handles.push_back(
              BlobHandle{HandleKind::kOutputChannel, h.blob_name(), h.size_bytes(), h.checksum()});
        }
        state[snapshot.task] = std::move(snapshot);
      }
    }
    std::vector<std::string> referenced(metadata->referenced_blobs().begin(),
                                        metadata->referenced_blobs().end());
    referenced.push_back(name);
    retained_[id] = std::move(referenced);
    LoadRetained(std::move(*pending), next + 1);
  });
}

// --- TaskManagers and deployment ------------------------------------------------------------

void JobManager::SendTo(runtime::NodeId node, const ControlMessage& message) {
  auto it = to_task_managers_.find(node);
  if (it != to_task_managers_.end()) it->second->Send(message);
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
      running_.insert(m.task);
      if (running_.size() == setup_->plan.tasks.size() && status_ == JobStatus::kRunning &&
          setup_->config.checkpoints.enabled) {
        ScheduleTrigger(setup_->config.checkpoints.interval);
      }
      return;
    case ControlType::kEndOfInput:
      ended_.insert(m.task);
      if (ended_.size() == setup_->plan.tasks.size()) {
        // FLIP-147: a final checkpoint commits what the sinks hold; then the job is done.
        TriggerCheckpoint(/*final=*/true);
      }
      return;
    case ControlType::kTaskFailed:
      if ((m.flags & kFailedRestoring) != 0 && m.checkpoint_id == latest_completed_ &&
          latest_completed_ > 0) {
        OnUnreadableCheckpoint(m.checkpoint_id, setup_->plan.tasks[m.task].name + ": " + m.text);
        return;
      }
      Restart("task " + setup_->plan.tasks[m.task].name + " failed: " + m.text);
      return;
    case ControlType::kAck:
      OnAck(m);
      return;
    case ControlType::kDecline:
      OnDecline(m);
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
  if (!ha_loaded_) return;
  if (status_ != JobStatus::kStarting && status_ != JobStatus::kRestarting) return;
  for (runtime::NodeId tm : setup_->cluster.task_managers) {
    if (!to_task_managers_.count(tm)) return;  // wait for every TaskManager
  }
  if (latest_completed_ > 0) {
    DeployAll(latest_state_);
  } else {
    DeployAll(std::nullopt);
  }
}

void JobManager::DeployAll(std::optional<std::map<uint32_t, TaskSnapshot>> restore) {
  ++attempt_;
  status_ = JobStatus::kRunning;
  running_.clear();
  ended_.clear();
  final_wanted_ = false;
  ctx_.events->Record(
      {Ev(EngineEvent::kDeployed),
       {static_cast<int64_t>(attempt_), static_cast<int64_t>(restore ? latest_completed_ : 0), 0},
       setup_->job.name});
  for (const TaskSpec& task : setup_->plan.tasks) {
    ControlMessage deploy;
    deploy.type = ControlType::kDeploy;
    deploy.task = task.index;
    deploy.attempt = attempt_;
    if (restore) {
      deploy.flags = latest_completed_;
      auto it = restore->find(task.index);
      TaskSnapshot snapshot;
      if (it != restore->end()) snapshot = it->second;
      snapshot.task = task.index;
      snapshot.checkpoint_id = latest_completed_;
      deploy.payload = EncodeTaskSnapshot(snapshot);
    }
    SendTo(task.node, deploy);
  }
}

void JobManager::FailJob(const std::string& why) {
  status_ = JobStatus::kFailed;
  failure_ = why;
  ctx_.events->Record({Ev(EngineEvent::kJobFinished), {0, 0, 0}, "failed: " + why});
}

void JobManager::Restart(const std::string& why) {
  if (status_ != JobStatus::kRunning) return;
  const std::optional<Duration> delay = restart_policy_.OnFailure(ctx_.clock->Now());
  if (setup_->config.switches.restore_latest_attempt && !pending_.empty() &&
      pending_.rbegin()->first > latest_completed_) {
    // restore-latest-attempt: recover from the newest triggered checkpoint, complete or not;
    // tasks that never acknowledged it restore nothing.
    const Pending& newest = pending_.rbegin()->second;
    latest_completed_ = newest.id;
    latest_state_ = newest.acks;
  }
  while (!pending_.empty()) AbortPending(pending_.begin()->first, "job restarting: " + why);
  ControlMessage cancel;
  cancel.type = ControlType::kCancel;
  cancel.attempt = attempt_ + 1;  // everything older than the next attempt stops
  for (auto& [node, sender] : to_task_managers_) sender->Send(cancel);
  if (!delay) {
    FailJob(why + "; " + restart_policy_.reason());
    return;
  }
  status_ = JobStatus::kRestarting;
  ++restarts_;
  ctx_.events->Record(
      {Ev(EngineEvent::kJobRestart), {static_cast<int64_t>(attempt_ + 1), 0, 0}, why});
  ctx_.scheduler->ScheduleAfter(*delay, [this, alive = alive_] {
    if (*alive) MaybeDeploy();
  });
}

void JobManager::OnUnreadableCheckpoint(uint64_t id, const std::string& why) {
  if (status_ != JobStatus::kRunning) return;
  // The newest readable retained checkpoint older than `id`, if the policy allows one.
  uint64_t fallback = 0;
  if (setup_->config.unreadable_checkpoint == UnreadableCheckpointPolicy::kFallback) {
    for (auto it = retained_states_.rbegin(); it != retained_states_.rend(); ++it) {
      if (it->first < id && !unreadable_.count(it->first)) {
        fallback = it->first;
        break;
      }
    }
  }
  unreadable_.insert(id);
  ctx_.events->Record({Ev(EngineEvent::kCheckpointUnreadable),
                       {static_cast<int64_t>(id), static_cast<int64_t>(fallback), 0},
                       why});
  if (fallback == 0) {
    // Cancel the attempt, then stop: nothing is emitted twice, and nothing silently.
    ControlMessage cancel;
    cancel.type = ControlType::kCancel;
    cancel.attempt = attempt_ + 1;
    for (auto& [node, sender] : to_task_managers_) sender->Send(cancel);
    FailJob("DATA_LOSS: the latest completed checkpoint " + std::to_string(id) +
            " is unreadable (" + why + ")" +
            (setup_->config.unreadable_checkpoint == UnreadableCheckpointPolicy::kFallback
                 ? "; no older readable checkpoint is retained"
                 : "; policy fail"));
    return;
  }
  // Fallback: a reported breach of exactly-once; records after `fallback` will be emitted again.
  latest_completed_ = fallback;
  latest_state_ = retained_states_.at(fallback);
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

// --- the checkpoint coordinator -------------------------------------------------------------

void JobManager::ScheduleTrigger(Duration delay) {
  if (trigger_scheduled_) return;
  trigger_scheduled_ = true;
  ctx_.scheduler->ScheduleAfter(delay, [this, alive = alive_] {
    if (!*alive) return;
    trigger_scheduled_ = false;
    if (status_ != JobStatus::kRunning || ended_.size() == setup_->plan.tasks.size()) return;
    TriggerCheckpoint(/*final=*/false);
  });
}

void JobManager::TriggerCheckpoint(bool final) {
  const CheckpointConfig& config = setup_->config.checkpoints;
  if (status_ != JobStatus::kRunning) return;
  if (triggering_) {
    // An id is being taken for another checkpoint; the final one follows right after it.
    if (final) final_wanted_ = true;
    return;
  }
  if (running_.size() != setup_->plan.tasks.size()) return;
  // The final checkpoint only when every task of the running attempt reached end of input (a
  // retry scheduled by an earlier attempt's aborted final checkpoint finds a restarted job).
  if (final && ended_.size() != setup_->plan.tasks.size()) return;
  if (final && pending_.size() >= config.max_concurrent) {
    // The final checkpoint respects max concurrent too: it follows when one of those ends.
    final_wanted_ = true;
    return;
  }
  if (!final) {
    if (pending_.size() >= config.max_concurrent ||
        (latest_completed_ > 0 && ctx_.clock->Now() - last_completion_ < config.min_pause)) {
      ScheduleTrigger(config.interval);
      return;
    }
  }
  // Take the id durably first, so no two checkpoints ever share one, across JobManagers too.
  triggering_ = true;
  const uint64_t id = next_checkpoint_id_;
  Bytes value;
  PutU64(value, id);
  const uint64_t attempt = attempt_;
  ctx_.ha_store->CompareAndSet(
      HaCounterKey(*setup_), counter_version_, std::move(value),
      [this, alive = alive_, id, final, attempt](Result<uint64_t> version) {
        if (!*alive) return;
        triggering_ = false;
        if (!version.ok()) {
          // Another JobManager moved the counter: this one is a zombie or raced; re-read.
          FailJob(version.status()
                      .WithContext("taking checkpoint id " + std::to_string(id))
                      .ToString());
          return;
        }
        counter_version_ = *version;
        next_checkpoint_id_ = id + 1;
        if (status_ != JobStatus::kRunning || attempt != attempt_) return;
        Pending& pending = pending_[id];
        pending.id = id;
        pending.trigger_time = ctx_.clock->Now();
        pending.final = final;
        CheckpointStats stats;
        stats.id = id;
        stats.trigger_time = pending.trigger_time;
        stats.tasks = static_cast<uint32_t>(setup_->plan.tasks.size());
        stats.final = final;
        pending.stats_index = history_.size();
        history_.push_back(stats);
        pending.timeout =
            ctx_.scheduler->ScheduleAfter(setup_->config.checkpoints.timeout, [this, alive, id] {
              if (!*alive || !pending_.count(id)) return;
              AbortPending(id, "expired before completing");
              CountCheckpointFailure();
            });
        ctx_.events->Record({Ev(EngineEvent::kTriggered),
                             {static_cast<int64_t>(id), final ? 1 : 0, 0},
                             setup_->job.name});
        for (uint32_t task : setup_->plan.tasks_of_chain[0]) {
          ControlMessage trigger;
          trigger.type = ControlType::kTrigger;
          trigger.task = task;
          trigger.attempt = attempt_;
          trigger.checkpoint_id = id;
          // Unaligned from the start, unless the aligned-checkpoint timeout lets it start aligned.
          const CheckpointConfig& cc = setup_->config.checkpoints;
          const bool unaligned =
              cc.mode == CheckpointMode::kUnaligned && cc.aligned_timeout == Duration::Zero();
          trigger.flags = (final ? 2 : 0) | (unaligned ? 1 : 0);
          trigger.time_ns = ctx_.clock->Now().nanos();
          SendTo(setup_->plan.tasks[task].node, trigger);
        }
        if (!final) ScheduleTrigger(setup_->config.checkpoints.interval);
        if (final_wanted_) {
          final_wanted_ = false;
          if (ended_.size() == setup_->plan.tasks.size()) TriggerCheckpoint(/*final=*/true);
        }
      });
}

void JobManager::DiscardState(const TaskSnapshot& snapshot) {
  for (const BlobHandle& handle : snapshot.handles) {
    ctx_.blob_store->Delete(handle.blob, [](Status) {});  // best effort, as Flink's discard
  }
}

void JobManager::OnAck(const ControlMessage& m) {
  auto it = pending_.find(m.checkpoint_id);
  if (it == pending_.end()) {
    // Late: the checkpoint was aborted or subsumed. Its state is garbage.
    if (discarded_.contains(m.checkpoint_id)) {
      if (Result<TaskSnapshot> late = DecodeTaskSnapshot(m.payload); late.ok()) {
        DiscardState(*late);
      }
    }
    return;
  }
  Result<TaskSnapshot> snapshot = DecodeTaskSnapshot(m.payload);
  if (!snapshot.ok()) {
    AbortPending(m.checkpoint_id, snapshot.status().WithContext("acknowledgement").ToString());
    return;
  }
  Pending& pending = it->second;
  CheckpointStats& stats = history_[pending.stats_index];
  if (!pending.acks.contains(m.task)) ++stats.acknowledged;
  stats.state_bytes += snapshot->state_bytes;
  stats.alignment_max = std::max(stats.alignment_max, snapshot->alignment);
  stats.async_max = std::max(stats.async_max, snapshot->async_duration);
  stats.persisted_in_flight_bytes += snapshot->persisted_in_flight_bytes;
  stats.start_delay_max = std::max(stats.start_delay_max, snapshot->start_delay);
  stats.processed_bytes += snapshot->processed_bytes;
  pending.acks[m.task] = std::move(*snapshot);
  if (pending.acks.size() == setup_->plan.tasks.size() && !pending.completing) {
    pending.completing = true;
    ctx_.events->Record({Ev(EngineEvent::kAllAcknowledged),
                         {static_cast<int64_t>(pending.id), 0, 0},
                         setup_->job.name});
    Complete(pending);
  }
}

void JobManager::OnDecline(const ControlMessage& m) {
  if (!pending_.count(m.checkpoint_id)) return;
  AbortPending(m.checkpoint_id, "declined by " + setup_->plan.tasks[m.task].name + ": " + m.text);
  CountCheckpointFailure();
}

void JobManager::CountCheckpointFailure() {
  // As Flink's CheckpointFailureManager: declined and expired checkpoints count; subsumed ones
  // and those aborted by a restart do not. A completion resets the count.
  if (status_ != JobStatus::kRunning) return;
  if (++consecutive_failures_ > setup_->config.checkpoints.tolerable_failures) {
    Restart("more than " + std::to_string(setup_->config.checkpoints.tolerable_failures) +
            " consecutive checkpoint failures");
  }
}

void JobManager::AbortPending(uint64_t id, const std::string& why) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  ctx_.scheduler->Cancel(it->second.timeout);
  CheckpointStats& stats = history_[it->second.stats_index];
  stats.status = CheckpointStats::Status::kFailed;
  stats.end_time = ctx_.clock->Now();
  stats.failure = why;
  const bool final = it->second.final;
  // As Flink's coordinator discards an aborted checkpoint's state: delete what the tasks
  // acknowledged, and what they acknowledge later (OnAck). Not when its metadata is being
  // written (the HA pointer may still move: CompletedAfterAbandoned), nor when
  // restore-latest-attempt just adopted it.
  if (!it->second.completing && id != latest_completed_) {
    for (const auto& [task, snapshot] : it->second.acks) DiscardState(snapshot);
    discarded_.insert(id);
  }
  pending_.erase(it);
  ctx_.events->Record({Ev(EngineEvent::kCheckpointAborted), {static_cast<int64_t>(id), 0, 0}, why});
  ControlMessage aborted;
  aborted.type = ControlType::kNotifyAborted;
  aborted.attempt = attempt_;
  aborted.checkpoint_id = id;
  for (auto& [node, sender] : to_task_managers_) sender->Send(aborted);
  if (final && status_ == JobStatus::kRunning) {
    ctx_.scheduler->ScheduleAfter(setup_->config.checkpoints.interval, [this, alive = alive_] {
      if (*alive) TriggerCheckpoint(/*final=*/true);
    });
  } else {
    TriggerWantedFinal();
  }
}

void JobManager::TriggerWantedFinal() {
  if (!final_wanted_ || triggering_ || ended_.size() != setup_->plan.tasks.size()) return;
  final_wanted_ = false;
  TriggerCheckpoint(/*final=*/true);
}

void JobManager::Complete(Pending& pending) {
  proto::CheckpointMetadata metadata;
  metadata.set_format_version(kMetadataFormatVersion);
  metadata.set_job_id(setup_->job.name);
  metadata.set_checkpoint_id(pending.id);
  switch (setup_->config.checkpoints.mode) {
    case CheckpointMode::kAligned:
      metadata.set_mode(proto::EXACTLY_ONCE_ALIGNED);
      break;
    case CheckpointMode::kUnaligned:
      metadata.set_mode(proto::EXACTLY_ONCE_UNALIGNED);
      break;
    case CheckpointMode::kAtLeastOnce:
      metadata.set_mode(proto::AT_LEAST_ONCE);
      break;
  }
  metadata.set_trigger_time_ns(pending.trigger_time.nanos());
  metadata.set_completion_time_ns(ctx_.clock->Now().nanos());
  std::vector<std::string> blobs;
  for (uint32_t c = 0; c < setup_->plan.chains.size(); ++c) {
    const ChainSpec& chain = setup_->plan.chains[c];
    proto::OperatorState* op = metadata.add_operators();
    op->set_operator_id(chain.name);
    op->set_parallelism(chain.parallelism);
    // The key groups are the keyed operator's (a chain holds at most one).
    const OperatorSpec* keyed = nullptr;
    for (uint32_t i = chain.first_operator; i <= chain.last_operator; ++i) {
      if (setup_->job.operators[i].kind == OperatorKind::kKeyedProcess) {
        keyed = &setup_->job.operators[i];
      }
    }
    op->set_max_parallelism(keyed != nullptr
                                ? keyed->max_parallelism
                                : setup_->job.operators[chain.last_operator].max_parallelism);
    for (uint32_t task : setup_->plan.tasks_of_chain[c]) {
      const TaskSnapshot& ack = pending.acks.at(task);
      proto::SubtaskState* sub = op->add_subtasks();
      const uint32_t subtask = setup_->plan.tasks[task].subtask;
      sub->set_subtask_index(subtask);
      sub->set_task(task);  // the execution plan's task index: unique across operators
      const KeyGroupRange groups =
          keyed != nullptr
              ? KeyGroupRangeForOperator(subtask, keyed->parallelism, keyed->max_parallelism)
              : KeyGroupRange{};
      sub->set_state_digest(ack.state_digest);
      sub->set_sync_duration_ns(ack.sync_duration.nanos());
      sub->set_async_duration_ns(ack.async_duration.nanos());
      sub->set_persisted_bytes(ack.persisted_in_flight_bytes);
      sub->set_processed_bytes(ack.processed_bytes);
      sub->set_start_delay_ns(ack.start_delay.nanos());
      sub->set_alignment_ns(ack.alignment.nanos());
      for (const BlobHandle& h : ack.handles) {
        blobs.push_back(h.blob);
        if (h.kind == HandleKind::kInputChannel || h.kind == HandleKind::kOutputChannel) {
          proto::ChannelStateHandle* handle = h.kind == HandleKind::kInputChannel
                                                  ? sub->add_input_channel_state()
                                                  : sub->add_output_channel_state();
          handle->set_blob_name(h.blob);
          handle->set_size_bytes(h.size_bytes);
          handle->set_checksum(h.checksum);
          handle->set_side(h.kind == HandleKind::kInputChannel ? proto::ChannelStateHandle::INPUT
                                                               : proto::ChannelStateHandle::OUTPUT);
          continue;
        }
        proto::StateHandle* handle =
            h.kind == HandleKind::kKeyed ? sub->add_keyed_state() : sub->add_operator_state();
        handle->set_blob_name(h.blob);
        handle->set_size_bytes(h.size_bytes);
        handle->set_checksum(h.checksum);
        if (h.kind == HandleKind::kKeyed && !groups.empty()) {
          handle->set_first_key_group(groups.first);
          handle->set_last_key_group(groups.last);
        }
      }
    }
  }
  std::sort(blobs.begin(), blobs.end());
  blobs.erase(std::unique(blobs.begin(), blobs.end()), blobs.end());
  for (const std::string& b : blobs) metadata.add_referenced_blobs(b);
  Result<Bytes> encoded = EncodeMetadata(metadata);
  if (!encoded.ok()) {
    AbortPending(pending.id, encoded.status().ToString());
    return;
  }
  auto c = std::make_shared<Completion>(
      Completion{pending.id, MetadataBlobName(pending.id), std::move(blobs),
                 static_cast<int64_t>(encoded->size()), pending.acks});
  ctx_.blob_store->Put(c->blob, std::move(*encoded), [this, alive = alive_, c](Status put) {
    if (!*alive || !pending_.count(c->id)) return;
    if (!put.ok()) {
      AbortPending(c->id, put.WithContext("writing metadata " + c->blob).ToString());
      return;
    }
    ctx_.events->Record(
        {Ev(EngineEvent::kMetadataWritten), {static_cast<int64_t>(c->id), c->size, 0}, c->blob});
    // One pointer move at a time, in order: each compare-and-set starts from the version the
    // previous one left.
    pointer_moves_.push_back(c);
    if (!pointer_moving_) NextPointerMove();
  });
}

void JobManager::NextPointerMove() {
  pointer_moving_ = false;
  while (!pointer_moves_.empty() && !pending_.count(pointer_moves_.front()->id)) {
    pointer_moves_.pop_front();  // given up meanwhile (aborted or subsumed)
  }
  if (pointer_moves_.empty()) return;
  pointer_moving_ = true;
  std::shared_ptr<Completion> c = std::move(pointer_moves_.front());
  pointer_moves_.pop_front();
  {
    auto alive = alive_;
    proto::HaPointer pointer;
    pointer.set_format_version(kHaPointerFormatVersion);
    pointer.set_job_id(setup_->job.name);
    pointer.set_latest_completed_checkpoint_id(c->id);
    pointer.set_latest_metadata_blob(c->blob);
    pointer.set_checkpoint_id_counter(next_checkpoint_id_ - 1);
    // The retained checkpoints after this one completes (cleanup keeps the newest `retained`).
    std::vector<uint64_t> kept;
    for (const auto& entry : retained_) kept.push_back(entry.first);
    kept.push_back(c->id);
    const size_t keep = setup_->config.checkpoints.retained;
    for (size_t i = kept.size() > keep ? kept.size() - keep : 0; i < kept.size(); ++i) {
      pointer.add_retained_metadata_blobs(MetadataBlobName(kept[i]));
    }
    Result<Bytes> value = EncodeHaPointer(pointer);
    FL_ASSERT(value.ok());
    ctx_.ha_store->CompareAndSet(
        HaPointerKey(*setup_), pointer_version_, std::move(*value),
        [this, alive, c](Result<uint64_t> version) {
          if (!*alive) return;
          if (!version.ok()) {
            AbortPending(c->id, version.status().WithContext("moving the HA pointer").ToString());
          } else if (pending_.count(c->id)) {
            FinishCompletion(c->id, c->blob, *version, std::move(c->blobs));
          } else {
            CompletedAfterAbandoned(c->id, c->blob, *version, std::move(c->blobs),
                                    std::move(c->acks));
          }
          if (*alive) NextPointerMove();
        });
  }
}

void JobManager::CompletedAfterAbandoned(uint64_t id, std::string metadata_blob,
                                         uint64_t pointer_version, std::vector<std::string> blobs,
                                         std::map<uint32_t, TaskSnapshot> acks) {
  // The HA pointer moved after this JobManager had given the checkpoint up (a restart raced
  // the compare-and-set). The pointer move is the moment of completion: the checkpoint is
  // complete all the same, and recovery must start from it, or its pre-committed transactions
  // would later be committed beside a replay of the same records.
  pointer_version_ = pointer_version;
  ctx_.events->Record({Ev(EngineEvent::kPointerMoved), {static_cast<int64_t>(id), 0, 1},
                       metadata_blob});  // c = 1: completed after it was given up
  if (id <= latest_completed_) return;
  latest_completed_ = id;
  latest_metadata_blob_ = metadata_blob;
  latest_state_ = std::move(acks);
  retained_states_[id] = latest_state_;
  blobs.push_back(metadata_blob);
  retained_[id] = std::move(blobs);
  if (status_ == JobStatus::kRunning) {
    // The running attempt did not start from it: restart from it.
    Restart("checkpoint " + std::to_string(id) + " completed after the attempt that took it " +
            "was given up; recovering from it");
  }
  // Restarting: the deployment to come restores from it.
}

void JobManager::FinishCompletion(uint64_t id, std::string metadata_blob, uint64_t pointer_version,
                                  std::vector<std::string> blobs) {
  // The HA pointer names checkpoint `id`: it is complete.
  pointer_version_ = pointer_version;
  Pending& pending = pending_.at(id);
  ctx_.scheduler->Cancel(pending.timeout);
  ctx_.events->Record(
      {Ev(EngineEvent::kPointerMoved), {static_cast<int64_t>(id), 0, 0}, metadata_blob});
  CheckpointStats& stats = history_[pending.stats_index];
  stats.status = CheckpointStats::Status::kCompleted;
  stats.end_time = ctx_.clock->Now();
  latest_completed_ = id;
  latest_metadata_blob_ = metadata_blob;
  latest_state_ = std::move(pending.acks);
  retained_states_[id] = latest_state_;
  last_completion_ = ctx_.clock->Now();
  consecutive_failures_ = 0;
  const bool final = pending.final;
  pending_.erase(id);
  blobs.push_back(metadata_blob);
  retained_[id] = std::move(blobs);
  // Older pending checkpoints are subsumed.
  while (!pending_.empty() && pending_.begin()->first < id) {
    AbortPending(pending_.begin()->first, "subsumed by checkpoint " + std::to_string(id));
  }
  ControlMessage notify;
  notify.type = ControlType::kNotifyComplete;
  notify.attempt = attempt_;
  notify.checkpoint_id = id;
  for (auto& [node, sender] : to_task_managers_) sender->Send(notify);
  ctx_.events->Record(
      {Ev(EngineEvent::kNotificationSent), {static_cast<int64_t>(id), 0, 0}, setup_->job.name});
  Cleanup();
  if (final) {
    status_ = JobStatus::kFinished;
    ctx_.events->Record(
        {Ev(EngineEvent::kJobFinished), {static_cast<int64_t>(id), 0, 0}, setup_->job.name});
  } else {
    TriggerWantedFinal();
  }
}

void JobManager::Cleanup() {
  // Keep the newest `retained` completed checkpoints; delete the blobs of the rest (no blob is
  // shared between checkpoints in this layout).
  while (retained_.size() > setup_->config.checkpoints.retained) {
    for (const std::string& blob : retained_.begin()->second) {
      ctx_.blob_store->Delete(blob, [](Status) {});
    }
    retained_states_.erase(retained_.begin()->first);
    retained_.erase(retained_.begin());
  }
}

}  // namespace faultline::engine
