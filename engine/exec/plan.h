// The execution plan: the job graph cut into chains (operators joined by forward edges of equal
// parallelism run in one task, as Flink chains them), each chain expanded into parallel
// subtasks, and every subtask placed on a TaskManager. The plan is a pure function of the job
// graph and the cluster, so every process computes the same one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/api/job.h"
#include "engine/runtime/ids.h"

namespace faultline::engine {

struct ChainSpec {
  uint32_t first_operator = 0;  // operators [first_operator, last_operator] of the job graph
  uint32_t last_operator = 0;
  uint32_t parallelism = 1;
  Partitioner input_partitioner = Partitioner::kForward;  // from the previous chain
  std::string name;                                       // "source+map"
};

struct TaskSpec {
  uint32_t index = 0;  // global task index
  uint32_t chain = 0;
  uint32_t subtask = 0;
  runtime::NodeId node = runtime::kNoNode;  // the TaskManager running it
  uint32_t data_port = 0;                   // where its input channels connect
  std::string name;                         // "source+map#2"
};

struct ExecutionPlan {
  std::vector<ChainSpec> chains;
  std::vector<TaskSpec> tasks;
  std::vector<std::vector<uint32_t>> tasks_of_chain;  // chain -> task indices by subtask

  // The producer tasks feeding `task`, in input-channel order.
  std::vector<uint32_t> InputsOf(uint32_t task) const;
  // The consumer tasks `task` sends to, in output-channel (subpartition) order.
  std::vector<uint32_t> OutputsOf(uint32_t task) const;
  bool IsSource(uint32_t task) const { return tasks[task].chain == 0; }
  bool IsLastChain(uint32_t chain) const { return chain + 1 == chains.size(); }
};

// `task_managers` are the nodes that run tasks; tasks are spread over them round-robin.
Result<ExecutionPlan> BuildExecutionPlan(const JobGraph& job,
                                         const std::vector<runtime::NodeId>& task_managers);

// The first data port; task t listens on kFirstDataPort + t.
inline constexpr uint32_t kControlPort = 1;
inline constexpr uint32_t kFirstDataPort = 100;

}  // namespace faultline::engine
