#include "engine/checkpoint/coordinator.h"

#include <algorithm>
#include <iterator>

#include "base/assert.h"
#include "engine/checkpoint/metadata.h"
#include "engine/exec/events.h"
#include "engine/proto/checkpoint.pb.h"
#include "engine/state/key_groups.h"

namespace faultline::engine {
namespace {

PlantedRecoveryBug planted_recovery_bug = PlantedRecoveryBug::kNone;

proto::CheckpointMode ModeOf(CheckpointMode mode) {
  switch (mode) {
    case CheckpointMode::kAligned:
      return proto::EXACTLY_ONCE_ALIGNED;
    case CheckpointMode::kUnaligned:
      return proto::EXACTLY_ONCE_UNALIGNED;
    case CheckpointMode::kAtLeastOnce:
      return proto::AT_LEAST_ONCE;
  }
  FL_UNREACHABLE("unknown checkpoint mode");
}

// The per-task state a checkpoint's metadata names.
std::map<uint32_t, TaskSnapshot> StatesOf(const proto::CheckpointMetadata& metadata) {
  std::map<uint32_t, TaskSnapshot> state;
  for (const proto::OperatorState& op : metadata.operators()) {
    for (const proto::SubtaskState& sub : op.subtasks()) {
      TaskSnapshot snapshot;
      snapshot.task = sub.task();
      snapshot.checkpoint_id = metadata.checkpoint_id();
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
      for (const proto::StateHandle& h : sub.shared_state()) {
        snapshot.handles.push_back(
            BlobHandle{HandleKind::kSharedReused, h.blob_name(), h.size_bytes(), h.checksum()});
      }
      state[snapshot.task] = std::move(snapshot);
    }
  }
  return state;
}

// One subtask's acknowledged state into the metadata; its blob names are added to `blobs`.
void AddSubtask(const TaskSnapshot& ack, uint32_t task, uint32_t subtask,
                const KeyGroupRange& groups, proto::OperatorState* op,
                std::vector<std::string>* blobs) {
  proto::SubtaskState* sub = op->add_subtasks();
  sub->set_subtask_index(subtask);
  sub->set_task(task);  // the execution plan's task index: unique across operators
  sub->set_state_digest(ack.state_digest);
  sub->set_sync_duration_ns(ack.sync_duration.nanos());
  sub->set_async_duration_ns(ack.async_duration.nanos());
  sub->set_persisted_bytes(ack.persisted_in_flight_bytes);
  sub->set_processed_bytes(ack.processed_bytes);
  sub->set_start_delay_ns(ack.start_delay.nanos());
  sub->set_alignment_ns(ack.alignment.nanos());
  for (const BlobHandle& h : ack.handles) {
    blobs->push_back(h.blob);
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
    proto::StateHandle* handle = h.kind == HandleKind::kKeyed ? sub->add_keyed_state()
                                 : IsShared(h.kind)           ? sub->add_shared_state()
                                                              : sub->add_operator_state();
    handle->set_blob_name(h.blob);
    handle->set_size_bytes(h.size_bytes);
    handle->set_checksum(h.checksum);
    if ((h.kind == HandleKind::kKeyed || IsShared(h.kind)) && !groups.empty()) {
      handle->set_first_key_group(groups.first);
      handle->set_last_key_group(groups.last);
    }
  }
}

// The metadata of checkpoint `id` from every task's acknowledgement; `blobs` gets the sorted,
// distinct names of the blobs it references.
proto::CheckpointMetadata BuildMetadata(const JobSetup& setup, uint32_t generation, uint64_t id,
                                        Time triggered, Time completed,
                                        const std::map<uint32_t, TaskSnapshot>& acks,
                                        std::vector<std::string>* blobs, bool savepoint = false,
                                        bool stop = false) {
  const JobGraph& job = setup.JobOf(generation);
  const ExecutionPlan& plan = setup.PlanOf(generation);
  proto::CheckpointMetadata metadata;
  metadata.set_plan_generation(generation);
  metadata.set_savepoint(savepoint);
  metadata.set_stop(stop);
  metadata.set_format_version(kMetadataFormatVersion);
  metadata.set_job_id(setup.job.name);
  metadata.set_checkpoint_id(id);
  metadata.set_mode(ModeOf(setup.config.checkpoints.mode));
  metadata.set_trigger_time_ns(triggered.nanos());
  metadata.set_completion_time_ns(completed.nanos());
  for (uint32_t c = 0; c < plan.chains.size(); ++c) {
    const ChainSpec& chain = plan.chains[c];
    proto::OperatorState* op = metadata.add_operators();
    op->set_operator_id(chain.name);
    op->set_parallelism(chain.parallelism);
    // The key groups are the keyed operator's (a chain holds at most one).
    const OperatorSpec* keyed = nullptr;
    for (uint32_t i = chain.first_operator; i <= chain.last_operator; ++i) {
      if (job.operators[i].kind == OperatorKind::kKeyedProcess) {
        keyed = &job.operators[i];
      }
    }
    op->set_max_parallelism(keyed != nullptr ? keyed->max_parallelism
                                             : job.operators[chain.last_operator].max_parallelism);
    for (uint32_t task : plan.tasks_of_chain[c]) {
      const uint32_t subtask = plan.tasks[task].subtask;
      const KeyGroupRange groups =
          keyed != nullptr
              ? KeyGroupRangeForOperator(subtask, keyed->parallelism, keyed->max_parallelism)
              : KeyGroupRange{};
      AddSubtask(acks.at(task), task, subtask, groups, op, blobs);
    }
  }
  std::sort(blobs->begin(), blobs->end());
  blobs->erase(std::unique(blobs->begin(), blobs->end()), blobs->end());
  for (const std::string& b : *blobs) metadata.add_referenced_blobs(b);
  return metadata;
}

}  // namespace

CheckpointCoordinator::CheckpointCoordinator(const runtime::ProcessContext& context,
                                             std::shared_ptr<const JobSetup> setup,
                                             TaskManagerGateway* gateway,
                                             CoordinatorListener* listener)
    : ctx_(context),
      setup_(std::move(setup)),
      gateway_(gateway),
      listener_(listener),
      alive_(std::make_shared<bool>(true)) {}

void SetPlantedRecoveryBugForTesting(PlantedRecoveryBug bug) {
  planted_recovery_bug = bug;
}

CheckpointCoordinator::~CheckpointCoordinator() {
  *alive_ = false;
}

// --- recovering the durable state ------------------------------------------------------------

void CheckpointCoordinator::Recover() {
  ctx_.ha_store->Read(HaCounterKey(*setup_), [this, alive = alive_](auto counter) {
    if (!*alive) return;
    if (!counter.ok()) {
      listener_->OnCoordinatorFailed(
          counter.status().WithContext("reading the checkpoint counter").ToString());
      return;
    }
    counter_version_ = counter->version;
    if (counter->version > 0) {
      ByteReader in(counter->value);
      next_checkpoint_id_ = in.U64().value_or(0) + 1;
    }
    ReadPointer();
  });
}

void CheckpointCoordinator::ReadPointer() {
  ctx_.ha_store->Read(HaPointerKey(*setup_), [this, alive = alive_](auto pointer) {
    if (!*alive) return;
    if (!pointer.ok()) {
      listener_->OnCoordinatorFailed(
          pointer.status().WithContext("reading the latest checkpoint pointer").ToString());
      return;
    }
    pointer_version_ = pointer->version;
    if (pointer->version == 0) {
      recovered_ = true;
      listener_->OnRecovered();
      return;
    }
    Result<proto::HaPointer> decoded = DecodeHaPointer(pointer->value, HaPointerKey(*setup_));
    if (!decoded.ok()) {
      listener_->OnCoordinatorFailed(decoded.status().ToString());
      return;
    }
    latest_completed_ = decoded->latest_completed_checkpoint_id();
    last_pointer_move_ = latest_completed_;
    latest_metadata_blob_ = decoded->latest_metadata_blob();
    claimed_.insert(decoded->claimed_savepoints().begin(), decoded->claimed_savepoints().end());
    std::vector<std::string> retained(decoded->retained_metadata_blobs().begin(),
                                      decoded->retained_metadata_blobs().end());
    if (retained.empty()) retained.push_back(latest_metadata_blob_);
    LoadRetained(std::move(retained), 0);
  });
}

void CheckpointCoordinator::LoadRetained(std::vector<std::string> blobs, size_t next) {
  // Reads the retained checkpoints' metadata one by one, then finishes recovery.
  if (next == blobs.size()) {
    FinishRecovery();
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
      const Duration first = setup_->config.connect_retry;
      const Duration cap = first * 5;
      recovery_retry_ =
          recovery_retry_ == Duration::Zero() ? first : std::min(recovery_retry_ * 2, cap);
      ctx_.scheduler->ScheduleAfter(recovery_retry_, [this, alive = alive_, retry] {
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
    recovery_retry_ = Duration::Zero();
    const uint64_t id = metadata->checkpoint_id();
    if (metadata->plan_generation() >= setup_->generations()) {
      // Taken at parallelisms this job does not know: never restored from.
      LoadRetained(std::move(*pending), next + 1);
      return;
    }
    retained_states_[id] = StatesOf(*metadata);
    generations_[id] = metadata->plan_generation();
    std::vector<std::string> referenced(metadata->referenced_blobs().begin(),
                                        metadata->referenced_blobs().end());
    referenced.push_back(name);
    retained_[id] = std::move(referenced);
    LoadRetained(std::move(*pending), next + 1);
  });
}

void CheckpointCoordinator::FinishRecovery() {
  if (!retained_states_.count(latest_completed_)) {
    const uint64_t unreadable = latest_completed_;
    const bool fallback =
        setup_->config.unreadable_checkpoint == UnreadableCheckpointPolicy::kFallback &&
        !retained_states_.empty();
    ctx_.events->Record(MakeEvent(
        EngineEvent::kCheckpointUnreadable,
        "metadata of the latest completed checkpoint is unreadable",
        {.checkpoint = static_cast<int64_t>(unreadable),
         .fallback = fallback ? static_cast<int64_t>(retained_states_.rbegin()->first) : 0}));
    if (!fallback) {
      listener_->OnCoordinatorFailed("DATA_LOSS: the metadata of the latest completed checkpoint " +
                                     std::to_string(unreadable) + " is unreadable");
      return;
    }
    unreadable_.insert(unreadable);
    latest_completed_ = retained_states_.rbegin()->first;
  }
  latest_state_ = retained_states_[latest_completed_];
  auto latest = retained_states_.find(latest_completed_);
  if (planted_recovery_bug == PlantedRecoveryBug::kRestoresPreviousAsLatest &&
      latest != retained_states_.begin()) {
    latest_state_ = std::prev(latest)->second;
    for (auto& [task, snapshot] : latest_state_) snapshot.checkpoint_id = latest_completed_;
  }
  recovered_ = true;
  listener_->OnRecovered();
}

uint64_t CheckpointCoordinator::OnRestoreFailed(uint64_t id, const std::string& why) {
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
  ctx_.events->Record(MakeEvent(
      EngineEvent::kCheckpointUnreadable, why,
      {.checkpoint = static_cast<int64_t>(id), .fallback = static_cast<int64_t>(fallback)}));
  if (fallback != 0) {
    // A reported breach of exactly-once: records after `fallback` will be emitted again.
    latest_completed_ = fallback;
    latest_state_ = retained_states_.at(fallback);
  }
  return fallback;
}

// --- the job, as the JobManager reports it ---------------------------------------------------

void CheckpointCoordinator::OnDeployed(uint64_t attempt, uint32_t generation) {
  FL_ASSERT(generation < setup_->generations(), "a deployment of a known plan generation");
  attempt_ = attempt;
  generation_ = generation;
  job_running_ = true;
  running_.clear();
  ended_.clear();
  final_wanted_ = false;
  periodic_queued_ = false;
  stopping_ = false;
  // The JobManager drops every message of earlier attempts: no late acknowledgement of theirs
  // can come.
  discarded_.clear();
}

void CheckpointCoordinator::SetJobRunning(bool running) {
  job_running_ = running;
}

void CheckpointCoordinator::OnTaskRunning(uint32_t task) {
  running_.insert(task);
  if (AllRunning() && job_running_ && setup_->config.checkpoints.enabled) {
    ScheduleTrigger(setup_->config.checkpoints.interval);
  }
}

void CheckpointCoordinator::OnTaskEndOfInput(uint32_t task) {
  ended_.insert(task);
  // FLIP-147: a final checkpoint commits what the sinks hold; then the job is done.
  if (AllEnded()) TriggerCheckpoint(/*final=*/true);
}

void CheckpointCoordinator::OnJobRestarting(const std::string& why) {
  periodic_queued_ = false;  // the next attempt triggers on its own interval
  stopping_ = false;
  if (savepoint_wanted_) {
    const bool stop = *savepoint_wanted_;
    savepoint_wanted_.reset();
    listener_->OnSavepointFailed(0, stop, savepoint_attempt_, "the job restarted: " + why);
  }
  auto newest_checkpoint = std::find_if(pending_.rbegin(), pending_.rend(),
                                        [](const auto& p) { return !p.second.savepoint; });
  if (setup_->config.switches.restore_latest_attempt && newest_checkpoint != pending_.rend() &&
      newest_checkpoint->first > latest_completed_) {
    // restore-latest-attempt: recover from the newest triggered checkpoint, complete or not;
    // tasks that never acknowledged it restore nothing.
    const Pending& newest = newest_checkpoint->second;
    latest_completed_ = newest.id;
    latest_state_ = newest.acks;
    generations_[newest.id] = newest.generation;
  }
  while (!pending_.empty()) AbortPending(pending_.begin()->first, "job restarting: " + why);
}

// --- triggering ------------------------------------------------------------------------------

void CheckpointCoordinator::ScheduleTrigger(Duration delay) {
  if (trigger_scheduled_) return;
  trigger_scheduled_ = true;
  ctx_.scheduler->ScheduleAfter(delay, [this, alive = alive_] {
    if (!*alive) return;
    trigger_scheduled_ = false;
    if (!job_running_ || AllEnded() || stopping_) return;
    TriggerCheckpoint(/*final=*/false);
  });
}

void CheckpointCoordinator::TriggerCheckpoint(bool final) {
  const CheckpointConfig& config = setup_->config.checkpoints;
  if (!job_running_ || stopping_) return;
  if (triggering_) {
    // An id is being taken for another checkpoint; this one follows right after it.
    if (final) {
      final_wanted_ = true;
    } else {
      QueuePeriodic();
    }
    return;
  }
  if (!AllRunning()) return;
  // The final checkpoint only when every task of the running attempt reached end of input (a
  // retry scheduled by an earlier attempt's aborted final checkpoint finds a restarted job).
  if (final && !AllEnded()) return;
  if (final && pending_.size() >= config.max_concurrent) {
    // The final checkpoint respects max concurrent too: it follows when one of those ends.
    final_wanted_ = true;
    return;
  }
  if (!final) {
    // As Flink's CheckpointRequestDecider: a request blocked by max concurrent or the min pause
    // is queued, not dropped, and fires as soon as it may.
    if (pending_.size() >= config.max_concurrent) {
      QueuePeriodic();
      return;
    }
    const Duration since = ctx_.clock->Now() - last_completion_;
    if (latest_completed_ > 0 && since < config.min_pause) {
      QueuePeriodic();
      if (!pause_timer_scheduled_) {
        pause_timer_scheduled_ = true;
        ctx_.scheduler->ScheduleAfter(config.min_pause - since, [this, alive = alive_] {
          if (!*alive) return;
          pause_timer_scheduled_ = false;
          TriggerQueued();
        });
      }
      return;
    }
  }
  TakeId(final, /*savepoint=*/false, /*stop=*/false);
}

void CheckpointCoordinator::TakeId(bool final, bool savepoint, bool stop) {
  // Take the id durably first, so no two checkpoints (or savepoints) ever share one, across
  // JobManagers too.
  triggering_ = true;
  struct Taking {
    uint64_t id;
    uint64_t attempt;
    bool final;
    bool savepoint;
    bool stop;
  };
  const Taking t{next_checkpoint_id_, attempt_, final, savepoint, stop};
  Bytes value;
  PutU64(value, t.id);
  ctx_.ha_store->CompareAndSet(HaCounterKey(*setup_), counter_version_, std::move(value),
                               [this, alive = alive_, t](Result<uint64_t> version) {
                                 if (*alive)
                                   OnIdTaken(t.id, t.final, t.attempt, std::move(version),
                                             t.savepoint, t.stop);
                               });
}

void CheckpointCoordinator::OnIdTaken(uint64_t id, bool final, uint64_t attempt,
                                      Result<uint64_t> version, bool savepoint, bool stop) {
  triggering_ = false;
  if (!version.ok()) {
    // Another JobManager moved the counter: this one is a zombie or raced.
    listener_->OnCoordinatorFailed(
        version.status().WithContext("taking checkpoint id " + std::to_string(id)).ToString());
    return;
  }
  FL_ASSERT(id > last_triggered_ && id > latest_completed_, "checkpoint ids only grow");
  last_triggered_ = id;
  counter_version_ = *version;
  next_checkpoint_id_ = id + 1;
  if (!job_running_ || attempt != attempt_) {
    if (savepoint) {
      listener_->OnSavepointFailed(id, stop, attempt, "the job restarted before its trigger");
    }
    StartWantedSavepoint();
    return;
  }
  Pending& pending = pending_[id];
  pending.id = id;
  pending.trigger_time = ctx_.clock->Now();
  pending.final = final;
  pending.generation = generation_;
  pending.savepoint = savepoint;
  pending.stop = stop;
  CheckpointStats stats;
  stats.id = id;
  stats.trigger_time = pending.trigger_time;
  stats.tasks = static_cast<uint32_t>(plan().tasks.size());
  stats.final = final;
  history_.push_back(stats);
  pending.timeout =
      ctx_.scheduler->ScheduleAfter(setup_->config.checkpoints.timeout, [this, alive = alive_, id] {
        if (!*alive || !pending_.count(id)) return;
        const bool counts = !pending_.at(id).savepoint;
        AbortPending(id, "expired before completing");
        if (counts) CountCheckpointFailure();
      });
  if (savepoint) {
    ctx_.events->Record(MakeEvent(EngineEvent::kSavepointTriggered, setup_->job.name,
                                  {.checkpoint = static_cast<int64_t>(id), .stop = stop ? 1 : 0}));
  } else {
    ctx_.events->Record(
        MakeEvent(EngineEvent::kTriggered, setup_->job.name,
                  {.checkpoint = static_cast<int64_t>(id), .final = final ? 1 : 0}));
  }
  SendTriggers(id, final, savepoint, stop);
  CheckBounds();
  StartWantedSavepoint();
  if (!final && !savepoint) ScheduleTrigger(setup_->config.checkpoints.interval);
  if (final_wanted_) {
    final_wanted_ = false;
    if (AllEnded()) TriggerCheckpoint(/*final=*/true);
  }
  TriggerQueued();
}

void CheckpointCoordinator::QueuePeriodic() {
  periodic_queued_ = true;
}

void CheckpointCoordinator::TriggerQueued() {
  if (!periodic_queued_ || queued_trigger_posted_) return;
  // Right after the current step: what ended the blocking checkpoint may yet restart the job
  // (a decline or expiry past the tolerable failures), which drops the request.
  queued_trigger_posted_ = true;
  ctx_.scheduler->Post([this, alive = alive_] {
    if (!*alive) return;
    queued_trigger_posted_ = false;
    if (!periodic_queued_ || triggering_ || final_wanted_) return;
    periodic_queued_ = false;
    if (!job_running_ || AllEnded() || stopping_)
      return;  // after end of input only the final one is taken
    TriggerCheckpoint(/*final=*/false);
  });
}

void CheckpointCoordinator::SendTriggers(uint64_t id, bool final, bool savepoint, bool stop) {
  const CheckpointConfig& cc = setup_->config.checkpoints;
  for (uint32_t task : plan().tasks_of_chain[0]) {
    ControlMessage trigger;
    trigger.type = ControlType::kTrigger;
    trigger.task = task;
    trigger.attempt = attempt_;
    trigger.checkpoint_id = id;
    // Unaligned from the start, unless the aligned-checkpoint timeout lets it start aligned.
    // Savepoints are always aligned (TriggerSavepoint refuses unaligned checkpoints).
    const bool unaligned = !savepoint && cc.mode == CheckpointMode::kUnaligned &&
                           cc.aligned_timeout == Duration::Zero();
    trigger.flags = (final ? 2 : 0) | (unaligned ? 1 : 0) | (savepoint ? kTriggerSavepoint : 0) |
                    (stop ? kTriggerStop : 0);
    trigger.time_ns = ctx_.clock->Now().nanos();
    gateway_->SendTo(plan().tasks[task].node, trigger);
  }
}

void CheckpointCoordinator::TriggerWantedFinal() {
  if (!final_wanted_ || triggering_ || !AllEnded()) return;
  final_wanted_ = false;
  TriggerCheckpoint(/*final=*/true);
}

// --- statistics ------------------------------------------------------------------------------

CheckpointStats& CheckpointCoordinator::StatsOf(uint64_t id) {
  // A pending checkpoint's statistics are never trimmed, and pending ones are the newest.
  auto it = std::find_if(history_.rbegin(), history_.rend(),
                         [id](const CheckpointStats& s) { return s.id == id; });
  FL_ASSERT(it != history_.rend(), "a pending checkpoint has its statistics");
  return *it;
}

void CheckpointCoordinator::TrimHistory() {
  size_t finished = 0;
  for (const CheckpointStats& s : history_) {
    if (s.status != CheckpointStats::Status::kInProgress) ++finished;
  }
  for (auto it = history_.begin();
       finished > setup_->config.checkpoints.history && it != history_.end();) {
    if (it->status == CheckpointStats::Status::kInProgress) {
      ++it;
    } else {
      it = history_.erase(it);
      --finished;
    }
  }
}

// --- acknowledgements, declines, aborts ------------------------------------------------------

void CheckpointCoordinator::OnAck(const ControlMessage& m) {
  auto it = pending_.find(m.checkpoint_id);
  if (it == pending_.end()) {
    // Late: the checkpoint was aborted or subsumed. Its state is garbage.
    if (discarded_.contains(m.checkpoint_id)) {
      if (Result<TaskSnapshot> late = DecodeTaskSnapshot(m.payload); late.ok()) {
        DiscardState(*late, m.checkpoint_id);
      }
      LateAnswer(m.checkpoint_id, m.task);
    }
    return;
  }
  Result<TaskSnapshot> snapshot = DecodeTaskSnapshot(m.payload);
  if (!snapshot.ok()) {
    AbortPending(m.checkpoint_id, snapshot.status().WithContext("acknowledgement").ToString());
    return;
  }
  FL_ASSERT(m.task < plan().tasks.size() && snapshot->task == m.task &&
                snapshot->checkpoint_id == m.checkpoint_id,
            "an acknowledgement comes from a task of the plan, for its checkpoint");
  // A shared file reused from an earlier checkpoint must still be held by one: a task that
  // learnt of a completion late may reuse a file whose checkpoints were all subsumed since
  // (FLINK-29913). The checkpoint then cannot complete; its own uploads are discarded.
  std::optional<std::set<std::string>> held;
  for (const BlobHandle& h : snapshot->handles) {
    if (h.kind != HandleKind::kSharedReused) continue;
    if (!held) held = HeldSharedBlobs(m.checkpoint_id);
    if (held->contains(h.blob)) continue;
    pending_.at(m.checkpoint_id).acks[m.task] = std::move(*snapshot);  // discarded with the rest
    AbortPending(m.checkpoint_id, plan().tasks[m.task].name + " reuses shared file " + h.blob +
                                      ", which no retained checkpoint holds any more");
    return;
  }
  Pending& pending = it->second;
  CheckpointStats& stats = StatsOf(pending.id);
  if (!pending.acks.contains(m.task)) ++stats.acknowledged;
  stats.state_bytes += snapshot->state_bytes;
  stats.alignment_max = std::max(stats.alignment_max, snapshot->alignment);
  stats.async_max = std::max(stats.async_max, snapshot->async_duration);
  stats.persisted_in_flight_bytes += snapshot->persisted_in_flight_bytes;
  stats.start_delay_max = std::max(stats.start_delay_max, snapshot->start_delay);
  stats.processed_bytes += snapshot->processed_bytes;
  pending.acks[m.task] = std::move(*snapshot);
  if (pending.acks.size() == plan().tasks.size() && !pending.completing) {
    pending.completing = true;
    ctx_.events->Record(MakeEvent(EngineEvent::kAllAcknowledged, setup_->job.name,
                                  {.checkpoint = static_cast<int64_t>(pending.id)}));
    Complete(pending);
  }
}

void CheckpointCoordinator::OnDecline(const ControlMessage& m) {
  if (!pending_.count(m.checkpoint_id)) {
    if (discarded_.contains(m.checkpoint_id)) LateAnswer(m.checkpoint_id, m.task);
    return;
  }
  const DeclineReason reason = m.flags <= static_cast<uint64_t>(DeclineReason::kUploadFailed)
                                   ? static_cast<DeclineReason>(m.flags)
                                   : DeclineReason::kUnknown;
  const bool savepoint = pending_.at(m.checkpoint_id).savepoint;
  AbortPending(m.checkpoint_id, "declined by " + plan().tasks[m.task].name + " (" +
                                    std::string(DeclineReasonName(reason)) + "): " + m.text);
  // A subsumed checkpoint (barrier n+1 overtook n), or one cancelled by an upstream decline's
  // marker, is not a failure (Flink's CHECKPOINT_DECLINED_SUBSUMED and
  // CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER).
  if (CountsAsFailure(reason) && !savepoint) CountCheckpointFailure();
}

void CheckpointCoordinator::CountCheckpointFailure() {
  // As Flink's CheckpointFailureManager: declined and expired checkpoints count; subsumed ones
  // and those aborted by a restart do not. A completion resets the count.
  if (!job_running_) return;
  if (++consecutive_failures_ > setup_->config.checkpoints.tolerable_failures) {
    listener_->OnTolerableFailuresExceeded(
        "more than " + std::to_string(setup_->config.checkpoints.tolerable_failures) +
        " consecutive checkpoint failures");
  }
}

void CheckpointCoordinator::AbortPending(uint64_t id, const std::string& why) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  ctx_.scheduler->Cancel(it->second.timeout);
  CheckpointStats& stats = StatsOf(id);
  stats.status = CheckpointStats::Status::kFailed;
  stats.end_time = ctx_.clock->Now();
  stats.failure = why;
  TrimHistory();
  const bool final = it->second.final;
  const bool savepoint = it->second.savepoint;
  const bool stop = it->second.stop;
  // As Flink's coordinator discards an aborted checkpoint's state: delete what the tasks
  // acknowledged, and what they acknowledge later (OnAck). Not when its metadata is being
  // written (the HA pointer may still move: CompletedAfterAbandoned), nor when
  // restore-latest-attempt just adopted it.
  if (!it->second.completing && id != latest_completed_) {
    for (const auto& [task, snapshot] : it->second.acks) DiscardState(snapshot, id);
    RememberDiscarded(id, it->second.acks);
  }
  pending_.erase(it);
  // Given up: its pointer move, if waiting, is dropped.
  std::erase_if(pointer_moves_, [id](const auto& c) { return c->id == id && !c->adopt; });
  ctx_.events->Record(
      MakeEvent(savepoint ? EngineEvent::kSavepointFailed : EngineEvent::kCheckpointAborted, why,
                {.checkpoint = static_cast<int64_t>(id)}));
  NotifyTasks(ControlType::kNotifyAborted, id);
  if (savepoint) {
    if (stop) stopping_ = false;
    listener_->OnSavepointFailed(id, stop, attempt_, why);
  }
  if (final && job_running_) {
    ctx_.scheduler->ScheduleAfter(setup_->config.checkpoints.interval, [this, alive = alive_] {
      if (*alive) TriggerCheckpoint(/*final=*/true);
    });
  } else {
    TriggerWantedFinal();
  }
  TriggerQueued();
}

void CheckpointCoordinator::RememberDiscarded(uint64_t id,
                                              const std::map<uint32_t, TaskSnapshot>& answered) {
  std::set<uint32_t> waiting;
  for (uint32_t task = 0; task < plan().tasks.size(); ++task) {
    if (!answered.contains(task)) waiting.insert(task);
  }
  if (waiting.empty()) return;  // (a checkpoint aborted while completing is not discarded)
  discarded_[id] = std::move(waiting);
  if (discarded_.size() > kMaxDiscarded) discarded_.erase(discarded_.begin());
}

void CheckpointCoordinator::LateAnswer(uint64_t id, uint32_t task) {
  auto it = discarded_.find(id);
  it->second.erase(task);
  if (it->second.empty()) discarded_.erase(it);
}

void CheckpointCoordinator::DiscardState(const TaskSnapshot& snapshot, uint64_t id) {
  std::optional<std::set<std::string>> held;
  for (const BlobHandle& handle : snapshot.handles) {
    // Shared files stay while another checkpoint holds them.
    if (IsShared(handle.kind)) {
      if (handle.kind == HandleKind::kSharedReused) continue;  // an earlier checkpoint's
      if (!held) held = HeldSharedBlobs(id);
      if (held->contains(handle.blob)) continue;
    }
    ctx_.blob_store->Delete(handle.blob, [](Status) {});  // best effort, as Flink's discard
  }
}

std::set<std::string> CheckpointCoordinator::HeldSharedBlobs(uint64_t except) const {
  std::set<std::string> held;
  for (const auto& [id, blobs] : retained_) {
    if (id == except) continue;
    for (const std::string& blob : blobs) {
      if (blob.starts_with(kSharedStatePrefix)) held.insert(blob);
    }
  }
  for (const auto& [id, pending] : pending_) {
    if (id == except) continue;
    for (const auto& [task, ack] : pending.acks) {
      for (const BlobHandle& h : ack.handles) {
        if (IsShared(h.kind)) held.insert(h.blob);
      }
    }
  }
  return held;
}

void CheckpointCoordinator::NotifyTasks(ControlType type, uint64_t id, uint64_t flags) {
  ControlMessage message;
  message.type = type;
  message.attempt = attempt_;
  message.checkpoint_id = id;
  message.flags = flags;
  gateway_->SendToAll(message);
}

void CheckpointCoordinator::ScheduleFinalRetry(uint64_t id) {
  const uint64_t attempt = attempt_;
  ctx_.scheduler->ScheduleAfter(setup_->config.checkpoints.interval,
                                [this, alive = alive_, id, attempt] {
                                  // The JobManager sets the job finished (not running) once
                                  // every task finished; a restart deploys a new attempt.
                                  if (!*alive || !job_running_ || attempt != attempt_) return;
                                  if (latest_completed_ != id || !pending_.empty()) return;
                                  TriggerCheckpoint(/*final=*/true);
                                });
}

// --- savepoints ------------------------------------------------------------------------------

bool CheckpointCoordinator::savepoint_in_progress() const {
  return savepoint_wanted_.has_value() ||
         std::any_of(pending_.begin(), pending_.end(),
                     [](const auto& p) { return p.second.savepoint; });
}

Status CheckpointCoordinator::TriggerSavepoint(bool stop) {
  if (!recovered_ || !job_running_ || !AllRunning()) {
    return FailedPreconditionError("the job is not running with every task");
  }
  if (setup_->config.checkpoints.mode == CheckpointMode::kUnaligned) {
    return FailedPreconditionError(
        "savepoints are aligned, and this engine does not take an aligned snapshot of a job "
        "that checkpoints unaligned");
  }
  if (!ended_.empty()) {
    return FailedPreconditionError("the job's input is ending: its final checkpoint commits it");
  }
  if (savepoint_in_progress() || stopping_) {
    return FailedPreconditionError("a savepoint is in progress");
  }
  savepoint_wanted_ = stop;
  savepoint_attempt_ = attempt_;
  if (stop) stopping_ = true;  // no checkpoint is triggered from now on
  StartWantedSavepoint();
  return Status::Ok();
}

void CheckpointCoordinator::StartWantedSavepoint() {
  if (!savepoint_wanted_ || triggering_) return;
  const bool stop = *savepoint_wanted_;
  savepoint_wanted_.reset();
  TakeId(/*final=*/false, /*savepoint=*/true, stop);
}

void CheckpointCoordinator::FinishSavepoint(uint64_t id, const std::string& metadata_blob,
                                            std::vector<std::string> blobs) {
  // Written: the savepoint is complete. It is no restore point, and its tasks are not notified
  // (their sinks commit its transactions with the next checkpoint, or a job resumed from it
  // commits them); under the commit-on-savepoint switch they are, as FLINK-10354's mistake.
  Pending& pending = pending_.at(id);
  CheckEveryTaskAcknowledged(pending);
  ctx_.scheduler->Cancel(pending.timeout);
  CheckpointStats& stats = StatsOf(id);
  stats.status = CheckpointStats::Status::kCompleted;
  stats.end_time = ctx_.clock->Now();
  TrimHistory();
  RememberSavepoint(id, metadata_blob, std::move(blobs), std::move(pending.acks),
                    pending.generation);
  pending_.erase(id);
  ctx_.events->Record(MakeEvent(EngineEvent::kSavepointCompleted, metadata_blob,
                                {.checkpoint = static_cast<int64_t>(id), .stop = 0}));
  if (setup_->config.switches.commit_on_savepoint) NotifyTasks(ControlType::kNotifyComplete, id);
  CheckBounds();
  listener_->OnSavepointCompleted(id, /*stop=*/false);
  TriggerWantedFinal();
  TriggerQueued();
}

void CheckpointCoordinator::RememberSavepoint(uint64_t id, const std::string& metadata_blob,
                                              std::vector<std::string> blobs,
                                              std::map<uint32_t, TaskSnapshot> states,
                                              uint32_t generation) {
  savepoints_[id] = CompletedSavepoint{.metadata_blob = metadata_blob,
                                       .blobs = std::move(blobs),
                                       .states = std::move(states),
                                       .generation = generation};
  while (savepoints_.size() > kMaxSavepoints) savepoints_.erase(savepoints_.begin());
}

void CheckpointCoordinator::ResumeFromSavepoint(uint64_t id, bool claim) {
  auto it = savepoints_.find(id);
  FL_ASSERT(it != savepoints_.end(), "a resume from a savepoint this coordinator completed");
  const CompletedSavepoint& sp = it->second;
  auto c = std::make_shared<Completion>();
  c->id = id;
  c->blob = sp.metadata_blob;
  c->blobs = sp.blobs;
  c->acks = sp.states;
  c->generation = sp.generation;
  c->adopt = true;
  c->claim = claim;
  // In line with the completions whose pointer moves wait: each starts from the version the
  // previous one left.
  pointer_moves_.push_back(std::move(c));
  if (!pointer_moving_) NextPointerMove();
}

void CheckpointCoordinator::AdoptSavepoint(const Completion& c, uint64_t version) {
  FL_ASSERT(c.id >= last_pointer_move_ && c.id >= latest_completed_ && version > pointer_version_,
            "the HA pointer moves in order");
  last_pointer_move_ = c.id;
  pointer_version_ = version;
  // The old job's checkpoints go, as a finished job's do; savepoints stay with the user. (None
  // of their files is shared with the resumed job: a savepoint is canonical.)
  for (const auto& [old, blobs] : retained_) {
    if (old == c.id) continue;
    for (const std::string& blob : blobs) {
      if (blob.starts_with(kSavepointPrefix) && !claimed_.contains(old)) continue;
      ctx_.blob_store->Delete(blob, [](Status) {});
    }
  }
  retained_.clear();
  retained_states_.clear();
  generations_.clear();
  unreadable_.clear();
  claimed_.clear();
  retained_[c.id] = c.blobs;
  retained_states_[c.id] = c.acks;
  generations_[c.id] = c.generation;
  if (c.claim) claimed_.insert(c.id);
  latest_completed_ = c.id;
  latest_metadata_blob_ = c.blob;
  latest_state_ = c.acks;
  CheckBounds();
  listener_->OnResumePrepared(c.id, "");
}

void CheckpointCoordinator::ScheduleStopRetry(uint64_t id) {
  const uint64_t attempt = attempt_;
  ctx_.scheduler->ScheduleAfter(setup_->config.checkpoints.interval,
                                [this, alive = alive_, id, attempt] {
                                  // A resume or a restart deploys a new attempt; a finished job
                                  // is no longer running.
                                  if (!*alive || !job_running_ || attempt != attempt_) return;
                                  NotifyTasks(ControlType::kNotifyComplete, id, kNotifyStop);
                                  ScheduleStopRetry(id);
                                });
}

// --- completion ------------------------------------------------------------------------------

void CheckpointCoordinator::CheckEveryTaskAcknowledged(const Pending& pending) const {
  const ExecutionPlan& taken_by = setup_->PlanOf(pending.generation);
  FL_ASSERT(pending.acks.size() == taken_by.tasks.size(),
            "completion never precedes every acknowledgement");
  for (const auto& [task, ack] : pending.acks) {
    FL_ASSERT(task < taken_by.tasks.size() && ack.task == task && ack.checkpoint_id == pending.id,
              "a checkpoint's acknowledgements are from distinct tasks of the plan");
  }
}

void CheckpointCoordinator::Complete(Pending& pending) {
  CheckEveryTaskAcknowledged(pending);
  std::vector<std::string> blobs;
  const proto::CheckpointMetadata metadata =
      BuildMetadata(*setup_, pending.generation, pending.id, pending.trigger_time,
                    ctx_.clock->Now(), pending.acks, &blobs, pending.savepoint, pending.stop);
  Result<Bytes> encoded = EncodeMetadata(metadata);
  if (!encoded.ok()) {
    AbortPending(pending.id, encoded.status().ToString());
    return;
  }
  auto c = std::make_shared<Completion>(
      Completion{.id = pending.id,
                 .blob = pending.savepoint ? SavepointMetadataBlobName(pending.id)
                                           : MetadataBlobName(pending.id),
                 .blobs = std::move(blobs),
                 .size = static_cast<int64_t>(encoded->size()),
                 .acks = pending.acks,
                 .generation = pending.generation});
  ctx_.blob_store->Put(c->blob, std::move(*encoded), [this, alive = alive_, c](Status put) {
    if (!*alive || !pending_.count(c->id)) return;
    if (!put.ok()) {
      AbortPending(c->id, put.WithContext("writing metadata " + c->blob).ToString());
      return;
    }
    ctx_.events->Record(MakeEvent(EngineEvent::kMetadataWritten, c->blob,
                                  {.checkpoint = static_cast<int64_t>(c->id), .bytes = c->size}));
    const Pending& written = pending_.at(c->id);
    if (written.savepoint && !written.stop) {
      // An intermediate savepoint is complete once written: no pointer move, no notification.
      c->blobs.push_back(c->blob);
      FinishSavepoint(c->id, c->blob, std::move(c->blobs));
      return;
    }
    // One pointer move at a time, in order: each compare-and-set starts from the version the
    // previous one left (a stop-with-savepoint's too: it becomes the restore point).
    pointer_moves_.push_back(c);
    if (!pointer_moving_) NextPointerMove();
  });
}

void CheckpointCoordinator::NextPointerMove() {
  pointer_moving_ = false;
  if (pointer_moves_.empty()) return;
  pointer_moving_ = true;
  std::shared_ptr<Completion> c = std::move(pointer_moves_.front());
  pointer_moves_.pop_front();
  MovePointer(std::move(c));
}

void CheckpointCoordinator::MovePointer(std::shared_ptr<Completion> c) {
  if (c->adopt && (c->id < last_pointer_move_ || c->id < latest_completed_)) {
    // A checkpoint after the savepoint completed (its output may be committed): resuming from
    // the savepoint would rewind it.
    listener_->OnResumePrepared(
        c->id, "checkpoint " + std::to_string(std::max(last_pointer_move_, latest_completed_)) +
                   " completed after savepoint " + std::to_string(c->id));
    NextPointerMove();
    return;
  }
  // (A resume may name the savepoint the pointer names already: a stop-with-savepoint's.)
  FL_ASSERT(c->id > last_pointer_move_ || (c->adopt && c->id == last_pointer_move_),
            "the HA pointer moves in order");
  auto alive = alive_;
  proto::HaPointer pointer;
  pointer.set_format_version(kHaPointerFormatVersion);
  pointer.set_job_id(setup_->job.name);
  pointer.set_latest_completed_checkpoint_id(c->id);
  pointer.set_latest_metadata_blob(c->blob);
  pointer.set_checkpoint_id_counter(next_checkpoint_id_ - 1);
  // The retained checkpoints after this one completes (cleanup keeps the newest `retained`).
  if (c->adopt) {
    // The resumed job starts from the savepoint alone.
    pointer.add_retained_metadata_blobs(c->blob);
    if (c->claim) pointer.add_claimed_savepoints(c->id);
  } else {
    std::vector<uint64_t> kept;
    for (const auto& entry : retained_) kept.push_back(entry.first);
    kept.push_back(c->id);
    const size_t keep = setup_->config.checkpoints.retained;
    for (size_t i = kept.size() > keep ? kept.size() - keep : 0; i < kept.size(); ++i) {
      pointer.add_retained_metadata_blobs(kept[i] == c->id ? c->blob
                                                           : RetainedMetadataBlob(kept[i]));
      if (claimed_.contains(kept[i])) pointer.add_claimed_savepoints(kept[i]);
    }
  }
  Result<Bytes> value = EncodeHaPointer(pointer);
  FL_ASSERT(value.ok());
  ctx_.ha_store->CompareAndSet(
      HaPointerKey(*setup_), pointer_version_, std::move(*value),
      [this, alive, c](Result<uint64_t> version) {
        if (!*alive) return;
        if (c->adopt) {
          if (version.ok()) {
            AdoptSavepoint(*c, *version);
          } else {
            listener_->OnCoordinatorFailed(
                version.status()
                    .WithContext("moving the HA pointer to savepoint " + std::to_string(c->id))
                    .ToString());
          }
          if (*alive) NextPointerMove();
          return;
        }
        if (!version.ok()) {
          AbortPending(c->id, version.status().WithContext("moving the HA pointer").ToString());
        } else if (pending_.count(c->id)) {
          FinishCompletion(c->id, c->blob, *version, std::move(c->blobs));
        } else {
          CompletedAfterAbandoned(c->id, c->blob, *version, std::move(c->blobs), std::move(c->acks),
                                  c->generation);
        }
        if (*alive) NextPointerMove();
      });
}

void CheckpointCoordinator::PointerMoved(uint64_t id, uint64_t version) {
  FL_ASSERT(id > last_pointer_move_ && version > pointer_version_, "the HA pointer moves in order");
  last_pointer_move_ = id;
  pointer_version_ = version;
}

void CheckpointCoordinator::CompletedAfterAbandoned(uint64_t id, std::string metadata_blob,
                                                    uint64_t pointer_version,
                                                    std::vector<std::string> blobs,
                                                    std::map<uint32_t, TaskSnapshot> acks,
                                                    uint32_t generation) {
  // The HA pointer moved after the coordinator had given the checkpoint up (a restart raced the
  // compare-and-set). The pointer move is the moment of completion: the checkpoint is complete
  // all the same, and recovery must start from it, or its pre-committed transactions would
  // later be committed beside a replay of the same records.
  PointerMoved(id, pointer_version);
  ctx_.events->Record(MakeEvent(EngineEvent::kPointerMoved, metadata_blob,
                                {.checkpoint = static_cast<int64_t>(id),
                                 .late = 1}));  // c = 1: completed after it was given up
  if (id <= latest_completed_) return;
  latest_completed_ = id;
  latest_metadata_blob_ = metadata_blob;
  latest_state_ = std::move(acks);
  retained_states_[id] = latest_state_;
  generations_[id] = generation;
  blobs.push_back(metadata_blob);
  retained_[id] = std::move(blobs);
  // A running attempt did not start from it: the job restarts from it. A restarting job's next
  // deployment restores from it anyway.
  listener_->OnCompletedAfterAbandoned(id);
}

void CheckpointCoordinator::FinishCompletion(uint64_t id, std::string metadata_blob,
                                             uint64_t pointer_version,
                                             std::vector<std::string> blobs) {
  // The HA pointer names checkpoint `id`: it is complete.
  PointerMoved(id, pointer_version);
  Pending& pending = pending_.at(id);
  CheckEveryTaskAcknowledged(pending);
  FL_ASSERT(id > latest_completed_, "the latest completed checkpoint never goes down");
  ctx_.scheduler->Cancel(pending.timeout);
  ctx_.events->Record(MakeEvent(EngineEvent::kPointerMoved, metadata_blob,
                                {.checkpoint = static_cast<int64_t>(id), .late = 0}));
  CheckpointStats& stats = StatsOf(id);
  stats.status = CheckpointStats::Status::kCompleted;
  stats.end_time = ctx_.clock->Now();
  TrimHistory();
  latest_completed_ = id;
  latest_metadata_blob_ = metadata_blob;
  latest_state_ = std::move(pending.acks);
  retained_states_[id] = latest_state_;
  generations_[id] = pending.generation;
  last_completion_ = ctx_.clock->Now();
  consecutive_failures_ = 0;
  const bool final = pending.final;
  const bool stop = pending.stop;
  pending_.erase(id);
  blobs.push_back(metadata_blob);
  retained_[id] = std::move(blobs);
  // Older pending checkpoints are subsumed; savepoints never are (Flink's).
  std::vector<uint64_t> subsumed;
  for (const auto& [older, p] : pending_) {
    if (older < id && !p.savepoint) subsumed.push_back(older);
  }
  for (uint64_t older : subsumed) {
    AbortPending(older, "subsumed by checkpoint " + std::to_string(id));
  }
  NotifyTasks(ControlType::kNotifyComplete, id,
              (final ? kNotifyFinal : 0) | (stop ? kNotifyStop : 0));
  ctx_.events->Record(MakeEvent(EngineEvent::kNotificationSent, setup_->job.name,
                                {.checkpoint = static_cast<int64_t>(id)}));
  if (stop) {
    const std::vector<std::string>& referenced = retained_.at(id);
    RememberSavepoint(id, metadata_blob, referenced, latest_state_, generations_.at(id));
    ctx_.events->Record(MakeEvent(EngineEvent::kSavepointCompleted, metadata_blob,
                                  {.checkpoint = static_cast<int64_t>(id), .stop = 1}));
  }
  Cleanup();
  if (final) ScheduleFinalRetry(id);
  if (stop) ScheduleStopRetry(id);
  listener_->OnCheckpointCompleted(id, final);
  if (stop) listener_->OnSavepointCompleted(id, /*stop=*/true);
  if (!final) TriggerWantedFinal();
  TriggerQueued();
}

void CheckpointCoordinator::Cleanup() {
  // Keep the newest `retained` completed checkpoints; delete the blobs of the rest, but for the
  // shared files another retained or pending checkpoint references (the shared-state registry;
  // the delete-shared-on-subsume teaching switch deletes those too, as FLINK-21351).
  while (retained_.size() > setup_->config.checkpoints.retained) {
    const uint64_t subsumed = retained_.begin()->first;
    std::optional<std::set<std::string>> held;
    for (const std::string& blob : retained_.begin()->second) {
      // A savepoint is the user's, unless the job resumed from it in claim mode.
      if (blob.starts_with(kSavepointPrefix) && !claimed_.contains(subsumed)) continue;
      if (blob.starts_with(kSharedStatePrefix) &&
          !setup_->config.switches.delete_shared_on_subsume) {
        if (!held) held = HeldSharedBlobs(subsumed);
        if (held->contains(blob)) continue;
      }
      ctx_.blob_store->Delete(blob, [](Status) {});
    }
    retained_states_.erase(subsumed);
    generations_.erase(subsumed);
    claimed_.erase(subsumed);
    retained_.erase(retained_.begin());
  }
  // Only retained checkpoints are ever restored from (or fallen back to).
  std::erase_if(unreadable_, [this](uint64_t id) { return !retained_states_.contains(id); });
  CheckBounds();
}

void CheckpointCoordinator::CheckBounds() const {
  const CheckpointConfig& config = setup_->config.checkpoints;
  // A savepoint is not held back by max concurrent; one at a time.
  const size_t savepoints = static_cast<size_t>(std::count_if(
      pending_.begin(), pending_.end(), [](const auto& p) { return p.second.savepoint; }));
  FL_ASSERT(savepoints <= 1 && pending_.size() <= config.max_concurrent + savepoints,
            "more checkpoints pending than allowed");
  const size_t adoptions = static_cast<size_t>(std::count_if(
      pointer_moves_.begin(), pointer_moves_.end(), [](const auto& c) { return c->adopt; }));
  FL_ASSERT(pointer_moves_.size() <= pending_.size() + adoptions,
            "a pointer move waits for no checkpoint");
  FL_ASSERT(savepoints_.size() <= kMaxSavepoints, "completed savepoints unbounded");
  FL_ASSERT(history_.size() <= config.history + pending_.size(), "checkpoint history unbounded");
  FL_ASSERT(discarded_.size() <= kMaxDiscarded, "discarded checkpoints unbounded");
  FL_ASSERT(running_.size() <= plan().tasks.size() && ended_.size() <= plan().tasks.size(),
            "tasks beyond the plan");
}

}  // namespace faultline::engine
