// A run as faultline-gui shows it: the scenario run in-process on the simulator, every trace
// record it wrote, the layout of its tasks (chains and subtasks at every plan generation) and
// the report (checkpoints, recoveries, verdicts, the reproduce command). Qt-free, so tests and
// other viewers use it as the GUI does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "gui/core/flow.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "simulator/trace.h"

namespace faultline::gui {

// One chain of operators (a column of the dataflow canvas) and its subtasks' task names at each
// plan generation ("sum+out#0", ...).
struct ChainLayout {
  std::string name;  // "sum+out"
  std::vector<std::vector<std::string>> tasks_by_generation;
};

struct Recording {
  scenarios::RunReport report;
  std::vector<sim::TraceRecord> records;
  std::vector<ChainLayout> chains;             // pipeline order
  std::vector<uint32_t> tasks_per_generation;  // how many tasks each plan generation runs
  // Per plan generation, per task name: the producer task of each of its input channels, in
  // input-channel order (a barrier-received event's `input` indexes it).
  std::vector<std::map<std::string, std::vector<std::string>>> inputs_by_generation;
  // Per plan generation, the task names by task index (a FlowItem's producer and consumer).
  std::vector<std::vector<std::string>> task_names_by_generation;
  // Per plan generation, per task with keyed state: its key groups ("key groups 0-31 of 128").
  std::vector<std::map<std::string, std::string>> key_groups_by_generation;
  // Every buffer through the tasks' queues and the network.
  Flow flow;
  uint32_t channel_credits = 0;  // buffers a producer may have outstanding per channel
  // Aligned checkpoints that block an input once its barrier came (not the no-alignment switch).
  bool blocking_alignment = false;
  uint32_t job_manager_node = 0;
  std::vector<uint32_t> task_manager_nodes;
};

// Runs `scenario` (with `options`: seed, switches) and keeps everything the views need.
// Errors are the run's (an invalid scenario, a livelock).
Result<Recording> RecordRun(const scenarios::Scenario& scenario, scenarios::RunOptions options);

// The chain a task name belongs to ("sum+out" of "sum+out#2") and its subtask (2); the whole
// name and 0 when it has no "#<n>".
std::pair<std::string, uint32_t> SplitTaskName(std::string_view task);

}  // namespace faultline::gui
