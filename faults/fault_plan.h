// A fault plan as plain C++ values: each entry's fault (a FaultSpec: its kind and parameters)
// and when it fires (a Trigger), and the nemesis's options. Nothing here knows the scenario
// schema: scenarios/fault_plan_proto.h converts the schema's `faults` and `nemesis` blocks to a
// FaultPlan and back, FaultRunner (fault_runner.h) executes one.
//
// A plan is validated in one place, CheckPlan, against the world it will run in (FaultTargets).
// Field paths in its errors follow the scenario schema ("faults[2].pause.duration: missing: a
// positive duration"), so an error reads the same for a scenario file and for a plan built in
// C++. Which fields a kind reads, and how each is checked, is its descriptor's field list
// (faults/fault_descriptors.h).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "faults/fault_kinds.h"
#include "faults/fault_targets.h"

namespace faultline::faults {

// A link between two nodes, both directions.
struct Link {
  std::optional<uint32_t> a;
  std::optional<uint32_t> b;
  bool operator==(const Link&) const = default;
};

// Which operations a storage fault hits: those whose target starts with `target_prefix`, the
// first `count` of them (default 1), or all of them for `duration` (whichever ends first).
struct Scope {
  std::string target_prefix;
  std::optional<uint32_t> count;
  std::optional<Duration> duration;
  bool operator==(const Scope&) const = default;
};

// The state backends a job resumed from a savepoint may run (FaultSpec::backend indexes it, as
// the scenario schema's Savepoint.Backend numbers them): empty is the backend the job runs.
inline constexpr std::array<std::string_view, 4> kResumeBackends = {"", "heap", "rocksdb",
                                                                    "rocksdb-incremental"};

// One fault: its kind and parameters. A kind reads the members its descriptor lists (under the
// schema's field names, e.g. partition's heal_after is `duration`); the others stay unset.
struct FaultSpec {
  FaultKind kind = FaultKind::kCrashTaskManager;
  std::optional<uint32_t> node;  // "node", or crash_task_manager's "task_manager"
  std::optional<Link> link;      // absent: every link
  std::vector<uint32_t> side_a;  // partition
  std::vector<uint32_t> side_b;
  std::string subtask;                     // "sum#2" or a task name
  std::optional<Duration> duration;        // pauses and windows; partition: heal_after
  std::optional<Duration> restart_after;   // crashes
  bool never_restart = false;              // crashes
  bool lose_disk = false;                  // crash_task_manager
  std::optional<Duration> extra_latency;   // latency kinds
  std::optional<Duration> lag;             // stale listings
  std::optional<Duration> offset;          // clock skew (may be negative)
  int64_t bandwidth_bytes_per_second = 0;  // slow_bandwidth
  int64_t drift_ppm = 0;                   // clock drift
  int64_t parallelism = 0;                 // rescale, savepoint resume: every operator's
  bool stop = false;                       // savepoint: stop-with-savepoint
  bool resume = false;                     // savepoint: resume the job from it
  bool claim = false;                      // savepoint resume: claim mode
  int64_t backend = 0;                     // savepoint resume: a kResumeBackends index
  std::optional<uint64_t> bytes_from_end;  // blob corruption
  std::optional<double> rate;              // the fraction of matching operations hit, (0, 1]
  Scope scope;                             // storage and disk operation faults
  bool operator==(const FaultSpec&) const = default;
};

// The nth engine event matching the filters, then `delay`.
struct EventTrigger {
  std::string event;  // the engine's name, e.g. "checkpoint-triggered"
  std::optional<uint64_t> checkpoint;
  std::string subtask;  // empty: any
  std::optional<uint32_t> input;
  std::optional<uint32_t> occurrence;  // default 1
  std::optional<Duration> delay;       // default 0
  bool operator==(const EventTrigger&) const = default;
};

// Exactly one of `at` (simulated time since the start) and `on`.
struct Trigger {
  std::optional<Duration> at;
  std::optional<EventTrigger> on;
  bool operator==(const Trigger&) const = default;
};

struct PlanEntry {
  std::string name;  // empty: "faults[i]"
  Trigger trigger;
  FaultSpec fault;
  // Every effect of the fault ends by this simulated time (since the start): a window or rule is
  // cut short, a pending restart or heal happens then at the latest. The nemesis's firings carry
  // the end of its fault phase here, so a nemesis run written out as plan entries
  // (FaultReport::nemesis_entries) runs the same.
  std::optional<Duration> ends_by;
  bool operator==(const PlanEntry&) const = default;
};

struct NemesisRate {
  FaultKind kind = FaultKind::kCrashTaskManager;
  double per_minute = 0;
  bool operator==(const NemesisRate&) const = default;
};

// Random faults during [0, fault_phase), then a quiet phase without; swarm: each seed runs a
// random subset of the listed kinds at random multiples of their rates.
struct NemesisOptions {
  std::optional<Duration> fault_phase;  // required
  std::optional<Duration> quiet_phase;  // default 0
  std::vector<NemesisRate> rates;
  bool swarm = false;
  bool operator==(const NemesisOptions&) const = default;
};

struct FaultPlan {
  std::vector<PlanEntry> entries;
  std::optional<NemesisOptions> nemesis;  // absent: no random faults
  bool operator==(const FaultPlan&) const = default;
};

// What is wrong with a plan, and where: "faults[0].pause.node" (the schema's field path).
struct PlanIssue {
  std::string path;
  std::string message;
};

// Checks entry `index` of a plan (its name, fault and trigger) and the nemesis against the
// world in `targets`. nullopt: valid.
std::optional<PlanIssue> CheckEntry(const PlanEntry& entry, size_t index,
                                    const FaultTargets& targets);
std::optional<PlanIssue> CheckNemesis(const NemesisOptions& nemesis, const FaultTargets& targets);
// Every entry in order, then the nemesis.
std::optional<PlanIssue> CheckPlan(const FaultPlan& plan, const FaultTargets& targets);
// CheckPlan as a status: INVALID_ARGUMENT "<path>: <message>".
Status ValidatePlan(const FaultPlan& plan, const FaultTargets& targets);

// An engine event a fault may trigger on, and what it carries.
struct TriggerEvent {
  std::string_view name;
  bool task;        // recorded by a task (has a subtask), else by the JobManager
  bool checkpoint;  // carries a checkpoint id
};
// Every engine event, in the engine's order.
std::vector<TriggerEvent> TriggerEvents();

}  // namespace faultline::faults
