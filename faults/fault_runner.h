// Executes a scenario's fault plan and nemesis against a simulated world.
//
//   auto runner = faults::FaultRunner::Create(*jw, scenario.spec).value();
//   runner->Install();          // before jw->Start()
//   jw->Start();
//   jw->RunUntilDone(limit);
//   faults::FaultReport report = runner->Report();
//
// Each plan entry fires once: at a simulated time (`at`), or `delay` after the nth engine event
// matching its filters (`on`), seen by a trace observer; the effect then runs as a world event.
// Process kinds act through World::Crash/Restart/Pause/Resume, the engine's TaskManager::FailTask
// and World::SetClock; partitions through Network::Partition/Heal; slow bandwidth through
// Network::SetLink; the operation kinds (storage, disks, external systems, latency spikes and
// clogs) arm a rule of the runner's sim::FaultInjector, which hits matching operations at the
// simulator's fault points. Every firing is a kFaultFired trace record ("fault-fired", detail
// = the fault's name); every operation hit is a kFaultInjected record carrying the same name, and
// injected errors read "injected fault <name>: ...".
//
// The nemesis fires random faults of the kinds it lists, each a Poisson process at its rate,
// during the fault phase [0, fault_phase); everything it starts ends by then (restarts, heals,
// resumes, windows), so the quiet phase after it has no fault. Swarm mode enables, per seed, a
// random subset of the listed kinds at random multiples of their rates.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "base/time.h"
#include "faults/fault_kinds.h"
#include "scenarios/scenario.pb.h"
#include "simulator/fault_points.h"
#include "simulator/job_world.h"
#include "simulator/trace.h"
#include "simulator/world.h"

namespace faultline::faults {

// What the runner needs to know about the world it acts on beyond sim::World.
struct FaultTargets {
  uint32_t job_manager = 0;
  std::vector<uint32_t> task_managers;  // nodes 1..n in a JobWorld
  std::vector<std::string> task_names;  // plan task index -> "sum+out#2" (engine event detail)
  // "sum#2" or "sum+out#2" -> the plan task index; nullopt: unknown.
  std::function<std::optional<uint32_t>(std::string_view)> resolve_subtask;
  // Fails a running task; false when no live process runs it.
  std::function<bool(uint32_t task, const Status& why)> fail_task;

  // The targets of a JobWorld: its JobManager, TaskManagers and execution plan.
  static FaultTargets Of(sim::JobWorld& jw);
};

// One plan entry after the run.
struct EntryReport {
  std::string name;  // the entry's name, or "faults[i]"
  FaultKind kind = FaultKind::kCrashTaskManager;
  bool fired = false;       // its trigger fired and the fault was applied
  Time fired_at;            // when (valid when fired)
  uint64_t injections = 0;  // operations it hit (operation kinds)
  bool effective = false;   // it changed the world (see `note` when not)
  std::string note;         // why it had no effect: "node 2 was down", "no operation matched"
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
  std::vector<std::string> never_fired;     // plan entries whose trigger never fired
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
  // The scenario's `faults` and `nemesis` (other fields are ignored). Errors name the field:
  // "faults[2].crash_task_manager.task_manager: node 7 does not exist".
  static Result<std::unique_ptr<FaultRunner>> Create(sim::JobWorld& jw,
                                                     const scenario::Scenario& scenario);
  static Result<std::unique_ptr<FaultRunner>> Create(sim::World& world, FaultTargets targets,
                                                     const scenario::Scenario& scenario);
  ~FaultRunner() override;
  FaultRunner(const FaultRunner&) = delete;
  FaultRunner& operator=(const FaultRunner&) = delete;

  // Schedules the timed entries and the nemesis, starts watching the trace and installs the
  // injector. Call once, before the world starts (jw.Start()).
  void Install();

  FaultReport Report() const;

  // For tests: the nemesis kinds and rates this seed runs (after swarm selection).
  const std::vector<std::pair<FaultKind, double>>& nemesis_rates() const { return rates_; }

 private:
  struct Spec;
  struct Entry;
  struct Rule;
  FaultRunner(sim::World& world, FaultTargets targets);

  Status AddPlan(const scenario::Scenario& scenario);
  Status AddNemesis(const scenario::Nemesis& nemesis);
  void OnRecord(const sim::TraceRecord& record) override;
  sim::FaultEffect Decide(const sim::FaultSite& site) override;

  // Applies a fault now; entry < 0 for the nemesis. Returns a note when it had no effect.
  std::string Fire(const Spec& spec, int entry);
  void FireEntry(size_t entry);
  void NemesisArrival(size_t rate_index);
  Spec RandomSpec(FaultKind kind, Rng& rng, Duration left);
  void Touch(Time t);  // something fault-related happened (or ends) at t
  void ArmRule(const Spec& spec, int entry);
  std::vector<uint32_t> AllNodes() const;

  sim::World& world_;
  FaultTargets targets_;
  std::vector<Entry> entries_;
  std::vector<Rule> rules_;
  std::vector<Spec> nemesis_specs_;  // specs fired by the nemesis, kept for their rules' names
  std::vector<std::pair<FaultKind, double>> rates_;
  std::vector<Rng> rate_rngs_;
  Time fault_phase_end_;
  bool has_nemesis_ = false;
  bool installed_ = false;
  std::array<uint64_t, kFaultKindCount> fired_{};
  std::array<uint64_t, kFaultKindCount> injected_{};
  uint64_t nemesis_fired_ = 0;
  uint64_t nemesis_count_ = 0;
  Time last_activity_;
  std::vector<std::string> permanent_;
};

}  // namespace faultline::faults
