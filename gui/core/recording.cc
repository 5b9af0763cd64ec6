#include "gui/core/recording.h"

#include <charconv>
#include <utility>

#include "engine/exec/cluster.h"
#include "engine/state/key_groups.h"

namespace faultline::gui {
namespace {

// Keeps a copy of every record the run writes.
class KeepAll final : public sim::TraceObserver {
 public:
  explicit KeepAll(std::vector<sim::TraceRecord>& out) : out_(out) {}
  void OnRecord(const sim::TraceRecord& record) override { out_.push_back(record); }

 private:
  std::vector<sim::TraceRecord>& out_;
};

}  // namespace

std::pair<std::string, uint32_t> SplitTaskName(std::string_view task) {
  const size_t hash = task.rfind('#');
  if (hash == std::string_view::npos) return {std::string(task), 0};
  uint32_t subtask = 0;
  const std::string_view digits = task.substr(hash + 1);
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), subtask);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return {std::string(task), 0};
  }
  return {std::string(task.substr(0, hash)), subtask};
}

Result<Recording> RecordRun(const scenarios::Scenario& scenario, scenarios::RunOptions options) {
  Recording out;
  KeepAll keep(out.records);
  options.trace_observer = &keep;
  FlowRecorder flow;
  options.flow_observer = &flow;
  uint32_t output_queue_max = 0;
  options.setup_observer = [&out, &output_queue_max](const engine::JobSetup& setup) {
    output_queue_max = setup.config.output_queue_max;
    out.channel_credits = setup.config.channel_credits;
    out.blocking_alignment = setup.config.checkpoints.mode == engine::CheckpointMode::kAligned &&
                             !setup.config.switches.no_alignment;
    out.job_manager_node = setup.cluster.job_manager;
    out.task_manager_nodes = setup.cluster.task_managers;
    for (uint32_t g = 0; g < setup.generations(); ++g) {
      const engine::ExecutionPlan& plan = setup.PlanOf(g);
      out.tasks_per_generation.push_back(static_cast<uint32_t>(plan.tasks.size()));
      std::vector<std::string>& by_index = out.task_names_by_generation.emplace_back();
      for (const engine::TaskSpec& task : plan.tasks) by_index.push_back(task.name);
      std::map<std::string, std::string>& groups = out.key_groups_by_generation.emplace_back();
      const engine::JobGraph& job = setup.JobOf(g);
      for (const engine::TaskSpec& task : plan.tasks) {
        const engine::ChainSpec& chain = plan.chains[task.chain];
        for (uint32_t i = chain.first_operator; i <= chain.last_operator; ++i) {
          const engine::OperatorSpec& op = job.operators[i];
          if (op.kind != engine::OperatorKind::kKeyedProcess) continue;
          const engine::KeyGroupRange range =
              engine::KeyGroupRangeForOperator(task.subtask, op.parallelism, op.max_parallelism);
          groups[task.name] = "key groups " + std::to_string(range.first) + "-" +
                              std::to_string(range.last) + " of " +
                              std::to_string(op.max_parallelism);
          break;
        }
      }
      std::map<std::string, std::vector<std::string>>& inputs =
          out.inputs_by_generation.emplace_back();
      for (const engine::TaskSpec& task : plan.tasks) {
        std::vector<std::string>& producers = inputs[task.name];
        for (uint32_t producer : plan.InputsOf(task.index)) {
          producers.push_back(plan.tasks[producer].name);
        }
      }
      for (uint32_t c = 0; c < plan.chains.size(); ++c) {
        if (out.chains.size() <= c) out.chains.push_back(ChainLayout{plan.chains[c].name, {}});
        std::vector<std::string> names;
        for (uint32_t task : plan.tasks_of_chain[c]) names.push_back(plan.tasks[task].name);
        out.chains[c].tasks_by_generation.push_back(std::move(names));
      }
    }
  };
  FL_ASSIGN_OR_RETURN(out.report, scenarios::RunScenario(scenario, options));
  out.flow = std::move(flow).Finish(out.records, output_queue_max);
  return out;
}

}  // namespace faultline::gui
