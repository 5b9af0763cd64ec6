// What the fault library knows about the world a plan runs in: its nodes, its tasks, how to
// fail a task, and (for validation) the run's length. FaultTargets::Of fills it from a JobWorld;
// tests fill it by hand for a bare sim::World.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "engine/api/job.h"
#include "engine/exec/plan.h"
#include "simulator/job_world.h"

namespace faultline::faults {

struct FaultTargets {
  uint32_t job_manager = 0;
  std::vector<uint32_t> task_managers;  // nodes 1..n in a JobWorld
  std::vector<std::string> task_names;  // plan task index -> "sum+out#2" (engine event detail)
  // "sum#2" or "sum+out#2" -> the plan task index; nullopt: unknown.
  std::function<std::optional<uint32_t>(std::string_view)> resolve_subtask;
  // The input channels of a task (barrier-received triggers name one); unset: not checked.
  std::function<size_t(uint32_t task)> input_count;
  // The subtasks, for messages: "source#0..3, sum#0..3; tasks: source#0..3, sum+sink#0..3".
  std::string tasks_text;
  // Fails a running task; false when no live process runs it.
  std::function<bool(uint32_t task, const Status& why)> fail_task;
  // Rescales the job to `parallelism` (every operator's); returns why it had no effect (empty:
  // it had one). Unset: the world cannot rescale.
  std::function<std::string(uint32_t parallelism)> rescale;
  // The parallelisms the job can be rescaled to (its plan generations'; a nemesis draws one).
  std::vector<uint32_t> rescale_parallelisms;
  // An operator's savepoint (engine::JobManager::TriggerSavepoint); returns why it had no
  // effect (empty: it was triggered). Unset: the world cannot take one.
  struct Savepoint {
    bool stop = false;
    bool resume = false;
    uint32_t parallelism = 0;  // resume: every operator's (0: as the job runs)
    std::string backend;       // resume: a kResumeBackends name (empty: as the job runs)
    bool claim = false;
  };
  std::function<std::string(const Savepoint&)> savepoint;
  // Validation only: a trigger at or after it never fires, and the nemesis's phases fit in it
  // (unset: not checked).
  std::optional<Duration> run_limit;

  // The targets of a JobWorld: its JobManager, TaskManagers and execution plan.
  static FaultTargets Of(sim::JobWorld& jw);
  // The targets of a job before it runs: JobManager node 0, TaskManagers 1..task_managers.
  static FaultTargets OfPlan(const engine::JobGraph& job, const engine::ExecutionPlan& plan,
                             uint32_t task_managers);

  bool IsNode(uint32_t node) const;
  bool IsTaskManager(uint32_t node) const;
};

// The task a fault targets: a task name of the plan ("sum+out#2"), or "<operator>#<i>" for
// subtask i of an operator, resolved to the task whose chain runs it. nullopt: no such subtask.
std::optional<uint32_t> ResolveSubtask(const engine::JobGraph& job,
                                       const engine::ExecutionPlan& plan, std::string_view name);

// The plan generation a resume from a savepoint taken at generation `from` asks for: every
// operator at `parallelism` (0: as at `from`), on state backend `backend` (a kResumeBackends
// name; empty: as at `from`), normalized so the job's configured backend is the empty name.
// Its state_backend factory is left unset (GenerationOf does not read it).
engine::Rescale ResumeTarget(const engine::JobSetup& setup, uint32_t from, uint32_t parallelism,
                             std::string_view backend);

// "source#0..3, sum#0..3; tasks: source#0..3, sum+sink#0..3".
std::string DescribeTasks(const engine::JobGraph& job, const engine::ExecutionPlan& plan);

}  // namespace faultline::faults
