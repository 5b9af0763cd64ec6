#include "engine/exec/cluster.h"

#include <algorithm>

#include "engine/state/key_groups.h"

namespace faultline::engine {

std::string_view CheckpointModeName(CheckpointMode mode) {
  switch (mode) {
    case CheckpointMode::kAligned:
      return "aligned";
    case CheckpointMode::kUnaligned:
      return "unaligned";
    case CheckpointMode::kAtLeastOnce:
      return "at-least-once";
  }
  return "?";
}

std::string RescaleName(const Rescale& rescale) {
  std::string name;
  if (rescale.parallelism != 0) name = "parallelism " + std::to_string(rescale.parallelism);
  for (const auto& [op, parallelism] : rescale.operators) {
    if (!name.empty()) name += ", ";
    name += op + "=" + std::to_string(parallelism);
  }
  if (name.empty()) name = "parallelism unchanged";
  if (!rescale.backend.empty()) name += ", backend " + rescale.backend;
  return name;
}

Result<JobGraph> RescaleJob(const JobGraph& job, const Rescale& rescale) {
  JobGraph rescaled = job;
  auto set = [](OperatorSpec& op, uint32_t parallelism) {
    op.parallelism = parallelism;
    if (op.kind == OperatorKind::kSource) op.source.parallelism = parallelism;
    if (op.kind == OperatorKind::kSink) op.sink.parallelism = parallelism;
  };
  if (rescale.parallelism != 0) {
    for (OperatorSpec& op : rescaled.operators) set(op, rescale.parallelism);
  }
  for (const auto& entry : rescale.operators) {
    const std::string& name = entry.first;
    const uint32_t parallelism = entry.second;
    auto it = std::find_if(rescaled.operators.begin(), rescaled.operators.end(),
                           [&name](const OperatorSpec& op) { return op.name == name; });
    if (it == rescaled.operators.end()) {
      return InvalidArgumentError("rescale: job " + job.name + " has no operator \"" + name + "\"");
    }
    set(*it, parallelism);
  }
  for (size_t i = 0; i < rescaled.operators.size(); ++i) {
    const OperatorSpec& op = rescaled.operators[i];
    const std::string where = "rescale to " + RescaleName(rescale) + ", operator " + op.name;
    // The max parallelism (the number of key groups) is the job's for good: state is
    // partitioned by it.
    FL_RETURN_IF_ERROR(ValidateParallelism(op.parallelism, op.max_parallelism).WithContext(where));
    if (i > 0 && op.input_partitioner == Partitioner::kForward &&
        rescaled.operators[i - 1].parallelism != op.parallelism) {
      return InvalidArgumentError(where + ": a forward edge needs equal parallelism (" +
                                  std::to_string(rescaled.operators[i - 1].parallelism) + " vs " +
                                  std::to_string(op.parallelism) + ")");
    }
  }
  return rescaled;
}

const std::string& JobSetup::BackendOf(uint32_t generation) const {
  static const std::string* const configured = new std::string();
  return generation == 0 ? *configured : rescaled.at(generation - 1).backend;
}

const StateBackendFactory& JobSetup::StateBackendOf(uint32_t generation) const {
  return BackendOf(generation).empty() ? config.state_backend
                                       : rescaled.at(generation - 1).state_backend;
}

std::optional<uint32_t> JobSetup::GenerationOf(const Rescale& rescale) const {
  Result<JobGraph> wanted = RescaleJob(job, rescale);
  if (!wanted.ok()) return std::nullopt;
  for (uint32_t g = 0; g < generations(); ++g) {
    const JobGraph& candidate = JobOf(g);
    bool same = BackendOf(g) == rescale.backend;
    for (size_t i = 0; i < candidate.operators.size(); ++i) {
      same = same && candidate.operators[i].parallelism == wanted->operators[i].parallelism;
    }
    if (same) return g;
  }
  return std::nullopt;
}

Result<std::shared_ptr<const JobSetup>> PrepareJob(JobGraph job, EngineConfig config,
                                                   ClusterSpec cluster,
                                                   std::vector<Rescale> rescales) {
  if (config.checkpoints.mode == CheckpointMode::kUnaligned &&
      config.checkpoints.max_concurrent != 1) {
    return InvalidArgumentError("unaligned checkpoints need max concurrent checkpoints = 1");
  }
  if (config.checkpoints.aligned_timeout < Duration::Zero()) {
    return InvalidArgumentError("the aligned-checkpoint timeout cannot be negative");
  }
  if (config.checkpoints.aligned_timeout > Duration::Zero() &&
      config.checkpoints.mode != CheckpointMode::kUnaligned) {
    return InvalidArgumentError(
        "an aligned-checkpoint timeout needs unaligned checkpoints (it switches aligned ones to "
        "unaligned)");
  }
  if (config.checkpoints.interval <= Duration::Zero()) {
    return InvalidArgumentError("checkpoint interval must be positive");
  }
  if (config.checkpoints.max_concurrent == 0) {
    return InvalidArgumentError("max concurrent checkpoints must be at least 1");
  }
  if (config.checkpoints.retained == 0) {
    return InvalidArgumentError("at least one completed checkpoint must be retained");
  }
  if (config.channel_credits == 0 || config.output_queue_max == 0) {
    return InvalidArgumentError("channel credits and output queue bound must be positive");
  }
  FL_ASSIGN_OR_RETURN(ExecutionPlan plan, BuildExecutionPlan(job, cluster.task_managers));
  auto setup = std::make_shared<JobSetup>();
  setup->job = std::move(job);
  setup->config = config;
  setup->cluster = std::move(cluster);
  setup->plan = std::move(plan);
  for (const Rescale& rescale : rescales) {
    if (setup->GenerationOf(rescale)) continue;  // the job as submitted, or an earlier rescale
    FL_ASSIGN_OR_RETURN(JobGraph rescaled, RescaleJob(setup->job, rescale));
    if (config.checkpoints.mode == CheckpointMode::kUnaligned) {
      return UnimplementedError(
          "rescaling a job with unaligned checkpoints: redistributing channel state is not "
          "built yet (use aligned or at-least-once checkpoints)");
    }
    FL_ASSIGN_OR_RETURN(ExecutionPlan rescaled_plan,
                        BuildExecutionPlan(rescaled, setup->cluster.task_managers));
    if (rescaled_plan.chains.size() != setup->plan.chains.size()) {
      return InvalidArgumentError("rescale to " + RescaleName(rescale) +
                                  " changes how the job's operators are chained");
    }
    for (size_t c = 0; c < rescaled_plan.chains.size(); ++c) {
      if (rescaled_plan.chains[c].first_operator != setup->plan.chains[c].first_operator ||
          rescaled_plan.chains[c].last_operator != setup->plan.chains[c].last_operator) {
        return InvalidArgumentError("rescale to " + RescaleName(rescale) +
                                    " changes how the job's operators are chained");
      }
    }
    if (!rescale.backend.empty() && !rescale.state_backend) {
      return InvalidArgumentError("state backend " + rescale.backend + " has no factory");
    }
    setup->rescaled.push_back(PlanGeneration{std::move(rescaled), std::move(rescaled_plan),
                                             rescale.backend, rescale.state_backend});
  }
  return std::shared_ptr<const JobSetup>(std::move(setup));
}

std::string HaPointerKey(const JobSetup& setup) {
  return "jobs/" + setup.job.name + "/latest";
}
std::string HaCounterKey(const JobSetup& setup) {
  return "jobs/" + setup.job.name + "/checkpoint-counter";
}
std::string SavepointDirectory(uint64_t savepoint_id) {
  return std::string(kSavepointPrefix) + "sp-" + std::to_string(savepoint_id);
}

std::string SavepointMetadataBlobName(uint64_t savepoint_id) {
  return SavepointDirectory(savepoint_id) + "/_metadata";
}

std::string MetadataBlobName(uint64_t checkpoint_id) {
  return "checkpoints/chk-" + std::to_string(checkpoint_id) + "/_metadata";
}

}  // namespace faultline::engine
