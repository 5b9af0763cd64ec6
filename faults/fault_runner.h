// Executes a fault plan and nemesis (faults/fault_plan.h) against a simulated world.
//
//   auto runner = faults::FaultRunner::Create(*jw, plan).value();
//   runner->Install();          // before jw->Start()
//   jw->Start();
//   jw->RunUntilDone(limit);
//   faults::FaultReport report = runner->Report();
//
// Each plan entry fires once: at a simulated time (`at`), or `delay` after the nth engine event
// matching its filters (`on`), seen by a trace observer; the effect then runs as a world event.
// How each kind acts is its descriptor (faults/fault_descriptors.h): a world action (crashes,
// pauses, partitions, slow bandwidth, clocks) or an operation rule that the runner's
// sim::FaultInjector arms and that hits matching operations at the simulator's fault points
// (storage, disks, external systems, latency spikes and clogs). A rule with a rate below 1 hits
// each matching operation with that probability, drawn from its own random stream (forked from
// the world's by the fault's name, so no other stream moves). Every firing is a kFaultFired trace
// record ("fault-fired", detail = the fault's name); every operation hit is a kFaultInjected record
// carrying the same name, and injected errors read "injected fault <name>: ...".
//
// The nemesis fires random faults of the kinds it lists, each a Poisson process at its rate,
// during the fault phase [0, fault_phase); everything it starts ends by then (restarts, heals,
// resumes, windows), so the quiet phase after it has no fault. Swarm mode enables, per seed, a
// random subset of the listed kinds at random multiples of their rates.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "base/time.h"
#include "faults/fault_kinds.h"
#include "faults/fault_plan.h"
#include "faults/fault_targets.h"
#include "simulator/fault_points.h"
#include "simulator/job_world.h"
#include "simulator/trace.h"
#include "simulator/world.h"

namespace faultline::faults {

// One plan entry after the run.
struct EntryReport {
  std::string name;  // the entry's name, or "faults[i]"
  FaultKind kind = FaultKind::kCrashTaskManager;
  bool fired = false;       // its trigger fired and the fault was applied
  Time fired_at;            // when (valid when fired)
  uint64_t injections = 0;  // operations it hit (operation kinds)
  bool effective = false;   // it changed the world (see `note` when not)
  std::string note;         // why it had no effect: "node 2 was down", "no operation matched"
  // Never fired, and its trigger named a checkpoint the run left behind after a fault: a later
  // checkpoint was triggered after some fault had fired (a failover skips or aborts ids).
  bool overtaken = false;
};

struct FaultReport {
  std::vector<EntryReport> entries;                    // in plan order
  std::array<uint64_t, kFaultKindCount> fired{};       // faults fired per kind (plan + nemesis)
  std::array<uint64_t, kFaultKindCount> injections{};  // operations hit per kind
  uint64_t nemesis_fired = 0;
  // The kinds the nemesis ran and their rates per minute (after swarm selection).
  std::vector<std::pair<FaultKind, double>> nemesis_rates;
  // From here on no fault fires, none is in effect, and nothing is armed: liveness can be
  // judged after it. The end of the nemesis fault phase at the earliest.
  Time quiet_from;
  // Faults that never end (a crash without restart, a partition that never heals, a clock
  // left skewed or drifting): liveness may be out of reach after quiet_from.
  std::vector<std::string> permanent;
  std::vector<std::string> never_fired;  // plan entries whose trigger never fired
  // Of those, the ones whose checkpoint a fault left behind (EntryReport::overtaken), as
  // "name (checkpoint n was left behind: ...)". A run with only these unfired is still
  // inconclusive (the planned fault did not happen), but a fault that fired explains it.
  std::vector<std::string> overtaken;
  // Of those, the ones still waiting when the job had finished (Report(true)): an `at` time or
  // a trigger's delay due after the run ended, or an event the finished job did not reach as
  // often as the trigger waits for, as "name (why)". The job's end explains these: the run was
  // judged whole, and nothing was left running to inject into.
  std::vector<std::string> after_end;
  // Every fault the nemesis fired, as a plan entry: its name, `at` the moment it fired, the
  // fault drawn, `ends_by` the end of the fault phase. A plan of these entries (and no nemesis)
  // runs the same faults at the same moments, so the same run.
  std::vector<PlanEntry> nemesis_entries;
  std::vector<std::string> without_effect;  // plan entries that fired but changed nothing

  // A run whose plan entries did not all fire is inconclusive (the caller decides about
  // entries without effect).
  bool conclusive() const { return never_fired.empty(); }
  uint64_t total_fired() const;
  // A few lines for a human report.
  std::string ToString() const;
};

class FaultRunner final : private sim::TraceObserver, private sim::FaultInjector {
 public:
  // Validates the plan against the world (ValidatePlan): errors name the field,
  // "faults[2].crash_task_manager.task_manager: node 7 does not exist (...)".
  static Result<std::unique_ptr<FaultRunner>> Create(sim::JobWorld& jw, const FaultPlan& plan);
  static Result<std::unique_ptr<FaultRunner>> Create(sim::World& world, FaultTargets targets,
                                                     const FaultPlan& plan);
  ~FaultRunner() override;
  FaultRunner(const FaultRunner&) = delete;
  FaultRunner& operator=(const FaultRunner&) = delete;

  // Schedules the timed entries and the nemesis, starts watching the trace and installs the
  // injector. Call once, before the world starts (jw.Start()).
  void Install();

  // `job_finished`: the job finished and the run ended at the world's current time (then an
  // entry still waiting is listed in FaultReport::after_end).
  FaultReport Report(bool job_finished = false) const;

  // For tests: the nemesis kinds and rates this seed runs (after swarm selection).
  const std::vector<std::pair<FaultKind, double>>& nemesis_rates() const { return rates_; }

 private:
  struct Firing;
  struct Entry;
  struct Rule;
  FaultRunner(sim::World& world, FaultTargets targets);

  void AddPlan(const FaultPlan& plan);
  // Why entry `e`, never fired, was still waiting when the run ended.
  std::string WaitingAtEnd(const Entry& e) const;
  void AddNemesis(const NemesisOptions& nemesis);
  void OnRecord(const sim::TraceRecord& record) override;
  sim::FaultEffect Decide(const sim::FaultSite& site) override;

  // Applies a fault now. Returns a note when it had no effect.
  std::string Fire(const Firing& firing);
  void FireEntry(size_t entry);
  void NoteLaterCheckpoint(const sim::TraceRecord& record);
  void NemesisArrival(size_t rate_index);
  FaultSpec RandomSpec(FaultKind kind, Rng& rng, Duration left);
  void Touch(Time t);  // something fault-related happened (or ends) at t
  void ArmRule(const Firing& firing);
  std::vector<uint32_t> AllNodes() const;

  sim::World& world_;
  FaultTargets targets_;
  std::vector<Entry> entries_;
  std::vector<Rule> rules_;
  std::vector<std::pair<FaultKind, double>> rates_;
  std::vector<Rng> rate_rngs_;
  Time fault_phase_end_;
  bool has_nemesis_ = false;
  bool installed_ = false;
  std::array<uint64_t, kFaultKindCount> fired_{};
  std::array<uint64_t, kFaultKindCount> injected_{};
  uint64_t nemesis_fired_ = 0;
  uint64_t nemesis_count_ = 0;
  Time first_fired_ = Time::Max();  // the first fault's firing
  Time last_activity_;
  std::vector<std::string> permanent_;
  std::vector<PlanEntry> nemesis_entries_;
};

}  // namespace faultline::faults
