#include "gui/core/timeline.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "engine/exec/events.h"

namespace faultline::gui {
namespace {

using engine::EngineEvent;
using sim::TraceKind;

CheckpointRow& RowOf(const Recording& recording, RunState& s, int64_t id) {
  auto [it, added] = s.checkpoints.try_emplace(id);
  if (added) {
    it->second.id = id;
    it->second.attempt = s.attempt;
    it->second.triggered = s.now;
    if (s.generation < recording.tasks_per_generation.size()) {
      it->second.expected = recording.tasks_per_generation[s.generation];
    }
  }
  return it->second;
}

void SetPhase(TaskState& t, TaskPhase phase, Time now) {
  if (t.phase == phase) return;
  t.phase = phase;
  t.since = now;
}

void ApplyTaskEvent(const Recording& recording, const sim::TraceRecord& r,
                    const sim::EngineEventView& e, RunState& s) {
  TaskState& t = s.tasks[r.detail];
  t.name = r.detail;
  t.node = r.node;
  t.attempt = s.attempt;
  const Time now = r.time;
  // Any event of a task that was only deployed means it runs (a start from scratch has no
  // restore events).
  if (t.phase == TaskPhase::kDeployed && e.event != EngineEvent::kRestoreStarted) {
    SetPhase(t, TaskPhase::kRunning, now);
  }
  const int64_t id = e.args.checkpoint.value_or(0);
  switch (e.event) {
    case EngineEvent::kRestoreStarted:
      SetPhase(t, TaskPhase::kRestoring, now);
      break;
    case EngineEvent::kRestoreFinished:
      SetPhase(t, TaskPhase::kRunning, now);
      break;
    case EngineEvent::kBarrierEmitted: {
      CheckpointRow::Subtask& sub = RowOf(recording, s, id).subtasks[t.name];
      sub.barrier = now;
      sub.aligned = now;
      break;
    }
    case EngineEvent::kBarrierReceived: {
      if (t.aligning != id) {
        t.aligning = id;
        t.barrier_inputs.clear();
        RowOf(recording, s, id).subtasks[t.name].barrier = now;
      }
      t.barrier_inputs.insert(e.args.input.value_or(0));
      SetPhase(t, TaskPhase::kAligning, now);
      break;
    }
    case EngineEvent::kAligned:
    case EngineEvent::kAlignmentTimedOut:
      if (t.phase == TaskPhase::kAligning) SetPhase(t, TaskPhase::kRunning, now);
      t.aligning = 0;
      t.barrier_inputs.clear();
      RowOf(recording, s, id).subtasks[t.name].aligned = now;
      break;
    case EngineEvent::kSnapshotCaptured:
      t.last_snapshot = id;
      t.state_entries = e.args.entries.value_or(0);
      RowOf(recording, s, id).subtasks[t.name].captured = now;
      if (t.phase == TaskPhase::kAligning && t.aligning == id) {
        SetPhase(t, TaskPhase::kRunning, now);
        t.aligning = 0;
        t.barrier_inputs.clear();
      }
      break;
    case EngineEvent::kUploaded: {
      const int64_t bytes = e.args.bytes.value_or(0);
      t.state_bytes = bytes;
      CheckpointRow& row = RowOf(recording, s, id);
      row.bytes += bytes;
      row.subtasks[t.name].bytes += bytes;
      break;
    }
    case EngineEvent::kAckSent: {
      CheckpointRow& row = RowOf(recording, s, id);
      ++row.acknowledged;
      CheckpointRow::Subtask& sub = row.subtasks[t.name];
      sub.acknowledged = now;
      sub.start_delay_nanos = e.args.start_delay_nanos.value_or(0);
      break;
    }
    case EngineEvent::kEndOfInput:
    case EngineEvent::kTaskFinished:
      SetPhase(t, TaskPhase::kFinished, now);
      break;
    default:
      break;
  }
}

void ApplyJobManagerEvent(const Recording& recording, const sim::TraceRecord& r,
                          const sim::EngineEventView& e, RunState& s) {
  const int64_t id = e.args.checkpoint.value_or(0);
  switch (e.event) {
    case EngineEvent::kDeployed: {
      s.attempt = static_cast<uint64_t>(e.args.attempt.value_or(0));
      s.generation = static_cast<uint32_t>(e.args.generation.value_or(0));
      s.job_status = "running";
      // The new attempt's tasks replace the old ones. Started from scratch they run at once;
      // restoring a checkpoint they wait for their restore.
      const bool from_scratch = e.args.restored_checkpoint.value_or(0) == 0;
      std::map<std::string, TaskState> tasks;
      for (const ChainLayout& chain : recording.chains) {
        if (s.generation >= chain.tasks_by_generation.size()) continue;
        for (const std::string& name : chain.tasks_by_generation[s.generation]) {
          TaskState& t = tasks[name];
          t.name = name;
          t.attempt = s.attempt;
          t.since = r.time;
          if (from_scratch) t.phase = TaskPhase::kRunning;
          if (auto old = s.tasks.find(name); old != s.tasks.end()) t.node = old->second.node;
        }
      }
      s.tasks = std::move(tasks);
      break;
    }
    case EngineEvent::kJobRestart:
      s.job_status = "restarting";
      for (auto& [name, t] : s.tasks) {
        if (t.phase != TaskPhase::kLost) SetPhase(t, TaskPhase::kCanceled, r.time);
      }
      break;
    case EngineEvent::kJobFinished:
      s.job_status = r.detail.starts_with("failed") ? r.detail : std::string("finished");
      break;
    case EngineEvent::kTriggered:
      RowOf(recording, s, id).final = e.args.final.value_or(0) != 0;
      break;
    case EngineEvent::kSavepointTriggered: {
      CheckpointRow& row = RowOf(recording, s, id);
      row.savepoint = true;
      row.stop = e.args.stop.value_or(0) != 0;
      break;
    }
    case EngineEvent::kPointerMoved:
    case EngineEvent::kSavepointCompleted: {
      CheckpointRow& row = RowOf(recording, s, id);
      if (row.status != CheckpointRow::Status::kCompleted) row.ended = r.time;
      row.status = CheckpointRow::Status::kCompleted;
      if (e.event == EngineEvent::kPointerMoved) s.latest_completed = id;
      break;
    }
    case EngineEvent::kCheckpointAborted:
    case EngineEvent::kSavepointFailed: {
      CheckpointRow& row = RowOf(recording, s, id);
      if (row.status == CheckpointRow::Status::kCompleted) break;  // a late abort of a done one
      row.status = e.event == EngineEvent::kCheckpointAborted ? CheckpointRow::Status::kAborted
                                                              : CheckpointRow::Status::kFailed;
      row.ended = r.time;
      row.why = r.detail;
      break;
    }
    default:
      break;
  }
}

std::optional<Moment> MomentOf(size_t index, const sim::TraceRecord& r) {
  const auto moment = [&](Moment::Kind kind, std::string text) {
    return Moment{index, r.time, kind, std::move(text)};
  };
  switch (r.kind) {
    case TraceKind::kNodeCrash:
      return moment(Moment::Kind::kFault, "node " + std::to_string(r.node) + " crashed" +
                                              (r.detail.empty() ? "" : " (" + r.detail + ")"));
    case TraceKind::kNodeRestart:
      return moment(Moment::Kind::kFault, "node " + std::to_string(r.node) + " restarted");
    case TraceKind::kFaultFired:
      return moment(Moment::Kind::kFault, "fault " + r.detail);
    case TraceKind::kPartition:
      return moment(Moment::Kind::kFault, "network partition " + std::to_string(r.args[0]));
    case TraceKind::kHeal:
      return moment(Moment::Kind::kFault, "partition " + std::to_string(r.args[0]) + " healed");
    case TraceKind::kEngine:
      break;
    default:
      return std::nullopt;
  }
  const std::optional<sim::EngineEventView> e = sim::EngineEventOf(r);
  if (!e) return std::nullopt;
  const std::string id = std::to_string(e->args.checkpoint.value_or(0));
  switch (e->event) {
    case EngineEvent::kJobRestart:
      return moment(Moment::Kind::kRecovery, "job restarts (attempt " +
                                                 std::to_string(e->args.attempt.value_or(0)) +
                                                 "): " + r.detail);
    case EngineEvent::kDeployed:
      return moment(
          Moment::Kind::kRecovery,
          "attempt " + std::to_string(e->args.attempt.value_or(0)) + " deployed from " +
              (e->args.restored_checkpoint.value_or(0) == 0
                   ? std::string("scratch")
                   : "checkpoint " + std::to_string(e->args.restored_checkpoint.value_or(0))));
    case EngineEvent::kPointerMoved:
      return moment(Moment::Kind::kCheckpointCompleted, "checkpoint " + id + " completed");
    case EngineEvent::kSavepointCompleted:
      return moment(Moment::Kind::kCheckpointCompleted, "savepoint " + id + " completed");
    case EngineEvent::kCheckpointAborted:
      return moment(Moment::Kind::kCheckpointAborted, "checkpoint " + id + " aborted: " + r.detail);
    case EngineEvent::kSavepointFailed:
      return moment(Moment::Kind::kCheckpointAborted, "savepoint " + id + " failed: " + r.detail);
    case EngineEvent::kJobFinished:
      return moment(Moment::Kind::kJobEnd, "job " + r.detail);
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string_view TaskPhaseName(TaskPhase phase) {
  switch (phase) {
    case TaskPhase::kDeployed:
      return "deployed";
    case TaskPhase::kRestoring:
      return "restoring";
    case TaskPhase::kRunning:
      return "running";
    case TaskPhase::kAligning:
      return "aligning";
    case TaskPhase::kFinished:
      return "finished";
    case TaskPhase::kLost:
      return "lost";
    case TaskPhase::kCanceled:
      return "cancelled";
  }
  return "?";
}

std::string_view CheckpointStatusName(CheckpointRow::Status status) {
  switch (status) {
    case CheckpointRow::Status::kInProgress:
      return "in progress";
    case CheckpointRow::Status::kCompleted:
      return "completed";
    case CheckpointRow::Status::kAborted:
      return "aborted";
    case CheckpointRow::Status::kFailed:
      return "failed";
  }
  return "?";
}

void Apply(const Recording& recording, const sim::TraceRecord& r, RunState& s) {
  ++s.applied;
  s.now = r.time;
  switch (r.kind) {
    case TraceKind::kNodeCrash:
      s.nodes_down.insert(r.node);
      for (auto& [name, t] : s.tasks) {
        if (t.node == r.node && t.phase != TaskPhase::kFinished)
          SetPhase(t, TaskPhase::kLost, r.time);
      }
      return;
    case TraceKind::kNodeRestart:
      s.nodes_down.erase(r.node);
      return;
    case TraceKind::kEngine:
      break;
    default:
      return;
  }
  const std::optional<sim::EngineEventView> e = sim::EngineEventOf(r);
  if (!e) return;
  if (engine::InfoOf(e->event).source == engine::EventSource::kTask) {
    if (!r.detail.empty()) ApplyTaskEvent(recording, r, *e, s);
  } else {
    ApplyJobManagerEvent(recording, r, *e, s);
  }
}

Timeline::Timeline(const Recording& recording, size_t keyframe_every)
    : recording_(recording), keyframe_every_(std::max<size_t>(1, keyframe_every)) {
  RunState s;
  keyframes_.push_back(s);
  for (size_t i = 0; i < recording_.records.size(); ++i) {
    const sim::TraceRecord& r = recording_.records[i];
    if (std::optional<Moment> m = MomentOf(i, r)) moments_.push_back(std::move(*m));
    Apply(recording_, r, s);
    if (s.applied % keyframe_every_ == 0) keyframes_.push_back(s);
  }
}

Time Timeline::end() const {
  return recording_.records.empty() ? Time::Zero() : recording_.records.back().time;
}

void Timeline::SeekRecord(size_t applied) {
  applied = std::min(applied, size());
  const size_t keyframe = applied / keyframe_every_;
  // From the current state when it is on the way (same keyframe interval, not past it).
  const bool forward = state_.applied <= applied && state_.applied / keyframe_every_ == keyframe;
  if (!forward) state_ = keyframes_.at(keyframe);
  while (state_.applied < applied) Apply(recording_, recording_.records[state_.applied], state_);
}

size_t RecordsUpTo(const std::vector<sim::TraceRecord>& records, Time t) {
  return static_cast<size_t>(
      std::upper_bound(records.begin(), records.end(), t,
                       [](Time at, const sim::TraceRecord& r) { return at < r.time; }) -
      records.begin());
}

size_t Timeline::RecordsUpTo(Time t) const {
  return gui::RecordsUpTo(recording_.records, t);
}

void Timeline::SeekTime(Time t) {
  SeekRecord(RecordsUpTo(t));
}

bool Timeline::StepUntil(const std::function<bool(const sim::TraceRecord&)>& matches) {
  for (size_t i = state_.applied; i < size(); ++i) {
    if (matches(recording_.records[i])) {
      SeekRecord(i + 1);
      return true;
    }
  }
  return false;
}

std::vector<Moment> ViolationMoments(const Recording& recording) {
  const auto& records = recording.records;
  const Time end = records.empty() ? Time::Zero() : records.back().time;
  std::vector<Moment> out;
  for (const checkers::Verdict& verdict : recording.report.verdicts) {
    if (!verdict.violated() || !verdict.first()) continue;
    const checkers::Evidence& evidence = verdict.first()->evidence;
    std::optional<Time> at;
    if (evidence.time && *evidence.time < end) at = *evidence.time;
    for (size_t i = 0; !at && evidence.checkpoint_id && i < records.size(); ++i) {
      const std::optional<sim::EngineEventView> e = sim::EngineEventOf(records[i]);
      if (e &&
          (e->event == EngineEvent::kPointerMoved ||
           e->event == EngineEvent::kSavepointCompleted) &&
          e->args.checkpoint == static_cast<int64_t>(*evidence.checkpoint_id)) {
        at = records[i].time;
      }
    }
    for (size_t i = 0; !at && evidence.attempt && i < records.size(); ++i) {
      const std::optional<sim::EngineEventView> e = sim::EngineEventOf(records[i]);
      if (e && e->event == EngineEvent::kDeployed &&
          e->args.attempt == static_cast<int64_t>(*evidence.attempt)) {
        at = records[i].time;
      }
    }
    const Time t = at.value_or(end);
    out.push_back(Moment{RecordsUpTo(records, t), t, Moment::Kind::kViolation,
                         verdict.rule() + ": " + verdict.first()->what});
  }
  return out;
}

bool IsBarrierEvent(const sim::TraceRecord& record) {
  return sim::IsEngineEvent(record, EngineEvent::kBarrierEmitted) ||
         sim::IsEngineEvent(record, EngineEvent::kBarrierReceived) ||
         sim::IsEngineEvent(record, EngineEvent::kAligned);
}

bool IsCheckpointEnd(const sim::TraceRecord& record) {
  return sim::IsEngineEvent(record, EngineEvent::kPointerMoved) ||
         sim::IsEngineEvent(record, EngineEvent::kCheckpointAborted) ||
         sim::IsEngineEvent(record, EngineEvent::kSavepointCompleted) ||
         sim::IsEngineEvent(record, EngineEvent::kSavepointFailed);
}

bool IsFault(const sim::TraceRecord& record) {
  return record.kind == TraceKind::kNodeCrash || record.kind == TraceKind::kNodeRestart ||
         record.kind == TraceKind::kFaultFired || record.kind == TraceKind::kPartition ||
         record.kind == TraceKind::kHeal;
}

}  // namespace faultline::gui
