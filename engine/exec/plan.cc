#include "engine/exec/plan.h"

namespace faultline::engine {

Result<ExecutionPlan> BuildExecutionPlan(const JobGraph& job,
                                         const std::vector<runtime::NodeId>& task_managers) {
  if (task_managers.empty()) return InvalidArgumentError("no TaskManager to run the job on");
  ExecutionPlan plan;
  for (uint32_t i = 0; i < job.operators.size(); ++i) {
    const OperatorSpec& op = job.operators[i];
    const bool chained = i > 0 && op.input_partitioner == Partitioner::kForward &&
                         op.parallelism == job.operators[i - 1].parallelism;
    if (chained) {
      ChainSpec& chain = plan.chains.back();
      chain.last_operator = i;
      chain.name += "+" + op.name;
    } else {
      plan.chains.push_back(ChainSpec{i, i, op.parallelism, op.input_partitioner, op.name});
    }
  }
  uint32_t next = 0;
  for (uint32_t c = 0; c < plan.chains.size(); ++c) {
    plan.tasks_of_chain.emplace_back();
    for (uint32_t s = 0; s < plan.chains[c].parallelism; ++s) {
      TaskSpec task;
      task.index = next;
      task.chain = c;
      task.subtask = s;
      task.node = task_managers[next % task_managers.size()];
      task.data_port = kFirstDataPort + next;
      task.name = plan.chains[c].name + "#" + std::to_string(s);
      plan.tasks.push_back(task);
      plan.tasks_of_chain.back().push_back(next);
      ++next;
    }
  }
  return plan;
}

std::vector<uint32_t> ExecutionPlan::InputsOf(uint32_t task) const {
  const TaskSpec& t = tasks[task];
  if (t.chain == 0) return {};
  const ChainSpec& chain = chains[t.chain];
  const std::vector<uint32_t>& producers = tasks_of_chain[t.chain - 1];
  if (chain.input_partitioner == Partitioner::kForward) return {producers[t.subtask]};
  return producers;  // all-to-all
}

std::vector<uint32_t> ExecutionPlan::OutputsOf(uint32_t task) const {
  const TaskSpec& t = tasks[task];
  if (IsLastChain(t.chain)) return {};
  const ChainSpec& next = chains[t.chain + 1];
  const std::vector<uint32_t>& consumers = tasks_of_chain[t.chain + 1];
  if (next.input_partitioner == Partitioner::kForward) return {consumers[t.subtask]};
  return consumers;
}

}  // namespace faultline::engine
