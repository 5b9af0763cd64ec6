#include "faults/fault_plan.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>

#include "base/text.h"
#include "engine/exec/events.h"
#include "faults/fault_descriptors.h"

namespace faultline::faults {
namespace {

constexpr size_t kMaxEntryNameBytes = 200;
constexpr uint32_t kMaxOccurrence = 1'000'000;
constexpr double kMaxRatePerMinute = 10'000;

using Check = std::optional<PlanIssue>;

Check Fail(std::string path, std::string message) {
  return PlanIssue{std::move(path), std::move(message)};
}

std::string At(const std::string& base, std::string_view field, int index = -1) {
  std::string out = base + "." + std::string(field);
  if (index >= 0) out += "[" + std::to_string(index) + "]";
  return out;
}

std::string TaskManagersText(const FaultTargets& t) {
  if (t.task_managers.empty()) return "none";
  return std::to_string(t.task_managers.front()) + ".." + std::to_string(t.task_managers.back());
}

std::string NodesText(const FaultTargets& t) {
  return "the JobManager is node " + std::to_string(t.job_manager) + ", task managers are nodes " +
         TaskManagersText(t);
}

// ---- fields ----------------------------------------------------------------------------------

Check NodeField(const std::string& path, std::optional<uint32_t> node, const FaultTargets& t) {
  if (!node) return Fail(path, "missing: which node (" + NodesText(t) + ")");
  if (!t.IsNode(*node)) {
    return Fail(path, "node " + std::to_string(*node) + " does not exist (" + NodesText(t) + ")");
  }
  return std::nullopt;
}

Check TaskManagerField(const std::string& path, std::optional<uint32_t> node,
                       const FaultTargets& t) {
  const std::string tms = "task managers are nodes " + TaskManagersText(t);
  if (!node) return Fail(path, "missing: which TaskManager (" + tms + ")");
  if (*node == t.job_manager) {
    return Fail(path, "node " + std::to_string(*node) +
                          " is the JobManager (use crash_job_manager); " + tms);
  }
  if (!t.IsTaskManager(*node)) {
    return Fail(path, "node " + std::to_string(*node) + " does not exist (" + tms + ")");
  }
  return std::nullopt;
}

Check SubtaskField(const std::string& path, const std::string& name, const FaultTargets& t,
                   std::optional<uint32_t>* task) {
  const std::string operators = t.tasks_text.empty() ? "" : " (operators: " + t.tasks_text + ")";
  if (name.empty()) return Fail(path, "missing: which subtask, as operator#index" + operators);
  if (t.resolve_subtask) *task = t.resolve_subtask(name);
  if (!task->has_value() || **task >= t.task_names.size()) {
    return Fail(path, "unknown subtask " + Quote(name) + operators);
  }
  return std::nullopt;
}

Check DurationValue(const std::string& path, std::optional<Duration> d, bool required,
                    DurationRule rule) {
  if (!d) {
    if (!required) return std::nullopt;
    return Fail(path, rule == DurationRule::kPositive ? "missing: a positive duration"
                                                      : "missing: a duration");
  }
  switch (rule) {
    case DurationRule::kPositive:
      if (*d <= Duration::Zero())
        return Fail(path, "must be positive, got " + Quote(DurationText(*d)));
      break;
    case DurationRule::kNonNegative:
      if (*d < Duration::Zero()) {
        return Fail(path, "must not be negative, got " + Quote(DurationText(*d)));
      }
      break;
    case DurationRule::kNonZero:
      if (*d == Duration::Zero()) return Fail(path, "must not be zero");
      break;
  }
  return std::nullopt;
}

Check LinkField(const std::string& path, const std::optional<Link>& link, const FaultTargets& t) {
  if (!link) return std::nullopt;
  FL_RETURN_IF_ENGAGED(NodeField(At(path, "a"), link->a, t));
  FL_RETURN_IF_ENGAGED(NodeField(At(path, "b"), link->b, t));
  if (*link->a == *link->b) return Fail(At(path, "b"), "a link joins two different nodes");
  return std::nullopt;
}

Check SidesField(const std::string& path, const FaultSpec& s, const FaultTargets& t) {
  std::set<uint32_t> seen;
  for (const char* side : {"side_a", "side_b"}) {
    const std::vector<uint32_t>& nodes = std::string_view(side) == "side_a" ? s.side_a : s.side_b;
    if (nodes.empty()) return Fail(At(path, side), "missing: a partition has two non-empty sides");
    for (size_t i = 0; i < nodes.size(); ++i) {
      const std::string p = At(path, side, static_cast<int>(i));
      FL_RETURN_IF_ENGAGED(NodeField(p, nodes[i], t));
      if (!seen.insert(nodes[i]).second) {
        return Fail(p, "node " + std::to_string(nodes[i]) +
                           " is listed twice (the sides must be disjoint)");
      }
    }
  }
  return std::nullopt;
}

Check RestartField(const std::string& path, const FaultSpec& s) {
  if (s.never_restart && s.restart_after) return Fail(path, "contradicts never_restart");
  if (!s.never_restart && !s.restart_after) {
    return Fail(path, "missing: set restart_after or never_restart: true");
  }
  return DurationValue(path, s.restart_after, false, DurationRule::kPositive);
}

Check ScopeField(const std::string& path, const Scope& scope) {
  if (scope.count && *scope.count == 0) return Fail(At(path, "count"), "must be at least 1");
  return DurationValue(At(path, "duration"), scope.duration, false, DurationRule::kPositive);
}

Check RateField(const std::string& path, std::optional<double> rate) {
  if (!rate) return Fail(path, "missing: the fraction of operations hit, in (0, 1]");
  if (!(*rate > 0 && *rate <= 1)) {
    return Fail(path, "must be above 0 and at most 1, got " + std::to_string(*rate));
  }
  return std::nullopt;
}

Check FieldOf(const std::string& kind_path, const FaultField& f, const FaultSpec& s,
              const FaultTargets& t) {
  const std::string path = At(kind_path, f.name);
  std::optional<uint32_t> task;
  switch (f.type) {
    case FieldType::kNode:
      return NodeField(path, s.node, t);
    case FieldType::kTaskManager:
      return TaskManagerField(path, s.node, t);
    case FieldType::kLink:
      return LinkField(path, s.link, t);
    case FieldType::kSides:
      return SidesField(kind_path, s, t);
    case FieldType::kSubtask:
      return SubtaskField(path, s.subtask, t, &task);
    case FieldType::kRestart:
      return RestartField(path, s);
    case FieldType::kDuration:
      return DurationValue(path, s.*f.duration, f.required, f.rule);
    case FieldType::kInt64:
    case FieldType::kEnum: {
      const std::string what = f.check_int(s.*f.int64);
      return what.empty() ? std::nullopt : Fail(path, what);
    }
    case FieldType::kRate:
      return RateField(path, s.rate);
    case FieldType::kScope:
      return ScopeField(path, s.scope);
    case FieldType::kFlag:
    case FieldType::kBytesFromEnd:
      return std::nullopt;
  }
  return std::nullopt;
}

// ---- triggers --------------------------------------------------------------------------------

Check EventTriggerField(const std::string& on_path, const EventTrigger& e, const FaultTargets& t) {
  const std::vector<TriggerEvent> events = TriggerEvents();
  const TriggerEvent* info = nullptr;
  std::vector<std::string_view> names;
  for (const TriggerEvent& ev : events) {
    names.push_back(ev.name);
    if (ev.name == e.event) info = &ev;
  }
  const std::string event_path = At(on_path, "event");
  if (e.event.empty()) return Fail(event_path, "missing (known: " + Join(names) + ")");
  if (info == nullptr) {
    return Fail(event_path,
                "unknown engine event " + Quote(e.event) + " (known: " + Join(names) + ")");
  }
  if (e.checkpoint) {
    if (!info->checkpoint) {
      return Fail(At(on_path, "checkpoint"), e.event + " carries no checkpoint id");
    }
    if (*e.checkpoint == 0) return Fail(At(on_path, "checkpoint"), "checkpoint ids start at 1");
  }
  std::optional<uint32_t> task;
  if (!e.subtask.empty()) {
    if (!info->task) {
      return Fail(At(on_path, "subtask"),
                  e.event + " is recorded by the JobManager, not a subtask");
    }
    FL_RETURN_IF_ENGAGED(SubtaskField(At(on_path, "subtask"), e.subtask, t, &task));
  }
  if (e.input) {
    if (e.event != "barrier-received") {
      return Fail(At(on_path, "input"), "only barrier-received names an input");
    }
    if (task.has_value() && t.input_count) {
      const size_t inputs = t.input_count(*task);
      if (*e.input >= inputs) {
        return Fail(At(on_path, "input"),
                    "input " + std::to_string(*e.input) + " does not exist: " + e.subtask +
                        (inputs == 0 ? " has no input channels"
                                     : " has input channels 0.." + std::to_string(inputs - 1)));
      }
    }
  }
  if (e.occurrence && (*e.occurrence == 0 || *e.occurrence > kMaxOccurrence)) {
    return Fail(At(on_path, "occurrence"), std::to_string(*e.occurrence) + " is outside [1, " +
                                               std::to_string(kMaxOccurrence) + "]");
  }
  return DurationValue(At(on_path, "delay"), e.delay, false, DurationRule::kNonNegative);
}

Check TriggerField(const std::string& path, const Trigger& trigger, const FaultTargets& t) {
  if (!trigger.at && !trigger.on) {
    return Fail(path, "missing: when the fault fires (at: \"2s\" or on { event: ... })");
  }
  if (trigger.at && trigger.on) return Fail(path, "set at or on, not both");
  if (trigger.on) return EventTriggerField(At(path, "on"), *trigger.on, t);
  const Duration at = *trigger.at;
  FL_RETURN_IF_ENGAGED(DurationValue(At(path, "at"), at, true, DurationRule::kNonNegative));
  if (t.run_limit && at >= *t.run_limit) {
    return Fail(At(path, "at"), at.ToString() + " is not before the run limit " +
                                    t.run_limit->ToString() + " (the fault would never fire)");
  }
  return std::nullopt;
}

// ---- the nemesis -----------------------------------------------------------------------------

Check PhasesField(const std::string& path, const NemesisOptions& n, const FaultTargets& t) {
  FL_RETURN_IF_ENGAGED(
      DurationValue(At(path, "fault_phase"), n.fault_phase, true, DurationRule::kPositive));
  FL_RETURN_IF_ENGAGED(
      DurationValue(At(path, "quiet_phase"), n.quiet_phase, false, DurationRule::kNonNegative));
  const Duration fault_phase = *n.fault_phase;
  const Duration quiet_phase = n.quiet_phase.value_or(Duration::Zero());
  if (t.run_limit && fault_phase + quiet_phase > *t.run_limit) {
    return Fail(At(path, n.quiet_phase ? "quiet_phase" : "fault_phase"),
                "the fault phase " + fault_phase.ToString() + " and quiet phase " +
                    quiet_phase.ToString() + " do not fit in the run limit " +
                    t.run_limit->ToString());
  }
  return std::nullopt;
}

}  // namespace

// From the engine's event table: who records each event, and whether it names a checkpoint.
std::vector<TriggerEvent> TriggerEvents() {
  std::vector<TriggerEvent> events;
  for (const engine::EngineEventInfo& info : engine::kEngineEvents) {
    events.push_back({info.name, info.source == engine::EventSource::kTask,
                      engine::SlotOf(info.event, engine::EventArg::kCheckpoint).has_value()});
  }
  return events;
}

std::optional<PlanIssue> CheckEntry(const PlanEntry& entry, size_t index,
                                    const FaultTargets& targets) {
  const std::string path = "faults[" + std::to_string(index) + "]";
  if (entry.name.size() > kMaxEntryNameBytes) {
    return Fail(At(path, "name"),
                "is longer than " + std::to_string(kMaxEntryNameBytes) + " bytes");
  }
  if (entry.ends_by && *entry.ends_by <= Duration::Zero()) {
    return Fail(At(path, "ends_by"), "must be a positive duration");
  }
  const FaultSpec& s = entry.fault;
  const std::string kind_path = At(path, FaultKindName(s.kind));
  for (const FaultField& field : DescriptorOf(s.kind).fields) {
    FL_RETURN_IF_ENGAGED(FieldOf(kind_path, field, s, targets));
  }
  return TriggerField(At(path, "trigger"), entry.trigger, targets);
}

std::optional<PlanIssue> CheckNemesis(const NemesisOptions& n, const FaultTargets& targets) {
  const std::string path = "nemesis";
  FL_RETURN_IF_ENGAGED(PhasesField(path, n, targets));
  if (n.rates.empty()) return Fail(At(path, "rates"), "missing: a nemesis needs rates");
  std::set<FaultKind> seen;
  for (size_t i = 0; i < n.rates.size(); ++i) {
    const NemesisRate& rate = n.rates[i];
    const std::string p = At(path, "rates", static_cast<int>(i));
    if (!seen.insert(rate.kind).second) {
      return Fail(At(p, "kind"), Quote(FaultKindName(rate.kind)) + " has a rate already");
    }
    if (!std::isfinite(rate.per_minute) || rate.per_minute <= 0 ||
        rate.per_minute > kMaxRatePerMinute) {
      return Fail(At(p, "per_minute"), "must be positive and at most 10000");
    }
  }
  return std::nullopt;
}

std::optional<PlanIssue> CheckPlan(const FaultPlan& plan, const FaultTargets& targets) {
  for (size_t i = 0; i < plan.entries.size(); ++i) {
    FL_RETURN_IF_ENGAGED(CheckEntry(plan.entries[i], i, targets));
  }
  if (plan.nemesis) return CheckNemesis(*plan.nemesis, targets);
  return std::nullopt;
}

Status ValidatePlan(const FaultPlan& plan, const FaultTargets& targets) {
  if (Check issue = CheckPlan(plan, targets)) {
    return InvalidArgumentError(issue->path + ": " + issue->message);
  }
  return Status::Ok();
}

}  // namespace faultline::faults
