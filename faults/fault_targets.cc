#include "faults/fault_targets.h"

#include <algorithm>

#include "engine/exec/task_manager.h"

namespace faultline::faults {

FaultTargets FaultTargets::OfPlan(const engine::JobGraph& job, const engine::ExecutionPlan& plan,
                                  uint32_t task_managers) {
  FaultTargets t;
  t.job_manager = 0;
  for (uint32_t n = 1; n <= task_managers; ++n) t.task_managers.push_back(n);
  for (const engine::TaskSpec& task : plan.tasks) t.task_names.push_back(task.name);
  t.resolve_subtask = [&job, &plan](std::string_view name) {
    return ResolveSubtask(job, plan, name);
  };
  t.input_count = [&plan](uint32_t task) { return plan.InputsOf(task).size(); };
  t.tasks_text = DescribeTasks(job, plan);
  return t;
}

engine::Rescale ResumeTarget(const engine::JobSetup& setup, uint32_t from, uint32_t parallelism,
                             std::string_view backend) {
  engine::Rescale target;
  if (parallelism != 0) {
    target.parallelism = parallelism;
  } else {
    for (const engine::OperatorSpec& op : setup.JobOf(from).operators) {
      target.operators.emplace_back(op.name, op.parallelism);
    }
  }
  target.backend = backend.empty() ? setup.BackendOf(from) : std::string(backend);
  if (target.backend == setup.config.state_backend_name) target.backend.clear();
  return target;
}

FaultTargets FaultTargets::Of(sim::JobWorld& jw) {
  FaultTargets t;
  t.job_manager = jw.job_manager_node();
  t.task_managers = jw.task_manager_nodes();
  const engine::JobSetup& setup = jw.setup();
  for (const engine::TaskSpec& task : setup.plan.tasks) t.task_names.push_back(task.name);
  sim::JobWorld* raw = &jw;
  // Task indices are the running plan generation's (a rescale changes them).
  t.resolve_subtask = [raw](std::string_view name) {
    const uint32_t g = raw->generation();
    return ResolveSubtask(raw->setup().JobOf(g), raw->setup().PlanOf(g), name);
  };
  t.input_count = [raw](uint32_t task) { return raw->setup().plan.InputsOf(task).size(); };
  t.tasks_text = DescribeTasks(setup.job, setup.plan);
  t.fail_task = [raw](uint32_t task, const Status& why) {
    for (runtime::NodeId node : raw->task_manager_nodes()) {
      engine::TaskManager* tm = raw->task_manager(node);
      if (tm != nullptr && tm->FailTask(task, why)) return true;
    }
    return false;
  };
  for (uint32_t g = 1; g < setup.generations(); ++g) {
    t.rescale_parallelisms.push_back(setup.JobOf(g).operators.front().parallelism);
  }
  t.rescale = [raw](uint32_t parallelism) -> std::string {
    // At the backend the job runs (a resume from a savepoint may have changed it).
    const std::optional<uint32_t> generation = raw->setup().GenerationOf(
        engine::Rescale{.parallelism = parallelism,
                        .operators = {},
                        .backend = raw->setup().BackendOf(raw->generation()),
                        .state_backend = {}});
    if (!generation) {
      return "the job was not prepared for parallelism " + std::to_string(parallelism);
    }
    engine::JobManager* jm = raw->job_manager();
    if (jm == nullptr) return "the JobManager was down";
    if (jm->generation() == *generation) {
      return "the job already runs at parallelism " + std::to_string(parallelism);
    }
    Status rescaled = jm->Rescale(*generation);
    return rescaled.ok() ? std::string() : rescaled.ToString();
  };
  t.savepoint = [raw](const Savepoint& request) -> std::string {
    engine::JobManager* jm = raw->job_manager();
    if (jm == nullptr) return "the JobManager was down";
    const engine::JobSetup& job_setup = raw->setup();
    uint32_t target = jm->generation();
    if (request.resume) {
      engine::Rescale wanted =
          ResumeTarget(job_setup, target, request.parallelism, request.backend);
      const std::optional<uint32_t> generation = job_setup.GenerationOf(wanted);
      if (!generation) {
        return "the job was not prepared to resume at " + engine::RescaleName(wanted);
      }
      target = *generation;
    }
    Status triggered =
        jm->TriggerSavepoint(engine::JobManager::SavepointRequest{.stop = request.stop,
                                                                  .resume = request.resume,
                                                                  .generation = target,
                                                                  .claim = request.claim});
    return triggered.ok() ? std::string() : triggered.ToString();
  };
  return t;
}

bool FaultTargets::IsTaskManager(uint32_t node) const {
  return std::find(task_managers.begin(), task_managers.end(), node) != task_managers.end();
}

bool FaultTargets::IsNode(uint32_t node) const {
  return node == job_manager || IsTaskManager(node);
}

std::optional<uint32_t> ResolveSubtask(const engine::JobGraph& job,
                                       const engine::ExecutionPlan& plan, std::string_view name) {
  for (const engine::TaskSpec& t : plan.tasks) {
    if (t.name == name) return t.index;
  }
  const size_t hash = name.rfind('#');
  if (hash == std::string_view::npos) return std::nullopt;
  const std::string_view op_name = name.substr(0, hash);
  const std::string_view index_text = name.substr(hash + 1);
  if (index_text.empty() || index_text.size() > 6) return std::nullopt;
  uint32_t index = 0;
  for (char c : index_text) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<uint32_t>(c - '0');
  }
  for (size_t op = 0; op < job.operators.size(); ++op) {
    if (job.operators[op].name != op_name) continue;
    for (size_t c = 0; c < plan.chains.size(); ++c) {
      const engine::ChainSpec& chain = plan.chains[c];
      if (op < chain.first_operator || op > chain.last_operator) continue;
      if (index >= chain.parallelism || c >= plan.tasks_of_chain.size()) return std::nullopt;
      const std::vector<uint32_t>& tasks = plan.tasks_of_chain[c];
      if (index >= tasks.size()) return std::nullopt;
      return tasks[index];
    }
  }
  return std::nullopt;
}

std::string DescribeTasks(const engine::JobGraph& job, const engine::ExecutionPlan& plan) {
  std::string out;
  for (const engine::OperatorSpec& op : job.operators) {
    if (!out.empty()) out += ", ";
    out += op.name + "#0.." + std::to_string(op.parallelism == 0 ? 0 : op.parallelism - 1);
  }
  out += "; tasks: ";
  bool first = true;
  for (const engine::ChainSpec& chain : plan.chains) {
    if (!first) out += ", ";
    first = false;
    out += chain.name + "#0.." + std::to_string(chain.parallelism == 0 ? 0 : chain.parallelism - 1);
  }
  return out;
}

}  // namespace faultline::faults
