#include "engine/exec/cluster.h"

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

Result<std::shared_ptr<const JobSetup>> PrepareJob(JobGraph job, EngineConfig config,
                                                   ClusterSpec cluster) {
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
  return std::shared_ptr<const JobSetup>(std::move(setup));
}

std::string HaPointerKey(const JobSetup& setup) {
  return "jobs/" + setup.job.name + "/latest";
}
std::string HaCounterKey(const JobSetup& setup) {
  return "jobs/" + setup.job.name + "/checkpoint-counter";
}
std::string MetadataBlobName(uint64_t checkpoint_id) {
  return "checkpoints/chk-" + std::to_string(checkpoint_id) + "/_metadata";
}

}  // namespace faultline::engine
