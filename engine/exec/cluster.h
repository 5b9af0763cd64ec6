// What every process of a job knows up front: the job, the engine settings and the cluster
// (which node runs the JobManager and which run TaskManagers). Immutable and shared, like a
// job's jar and configuration.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/api/job.h"
#include "engine/exec/config.h"
#include "engine/exec/plan.h"

namespace faultline::engine {

struct ClusterSpec {
  runtime::NodeId job_manager = 0;
  std::vector<runtime::NodeId> task_managers;
};

// A rescale: the job restarted from its latest completed checkpoint at new parallelisms, as
// Flink's adaptive scheduler does (or a stop, then a resubmission with `-p`). `parallelism` sets
// every operator's (0: leave them), `operators` one operator's by name, after it. Key groups (max
// parallelism) never change; the operators' chaining must not either.
struct Rescale {
  uint32_t parallelism = 0;
  std::vector<std::pair<std::string, uint32_t>> operators;
};
std::string RescaleName(const Rescale& rescale);  // "parallelism 2", "sum=8"

// The job graph at a rescale's parallelisms, validated as JobBuilder::Build validates.
Result<JobGraph> RescaleJob(const JobGraph& job, const Rescale& rescale);

// A plan generation: the job at one set of parallelisms and its execution plan. Generation 0 is
// the job as submitted; each rescale the job may be given is another. Task indices are local to
// a generation (each plan numbers its tasks from 0); an attempt runs one generation, and its
// checkpoints record it (CheckpointMetadata.plan_generation).
struct PlanGeneration {
  JobGraph job;
  ExecutionPlan plan;
};

struct JobSetup {
  JobGraph job;  // generation 0's
  EngineConfig config;
  ClusterSpec cluster;
  ExecutionPlan plan;  // generation 0's
  // Generations 1.. (the rescales the job may be given, in order); empty: it never rescales.
  std::vector<PlanGeneration> rescaled;

  uint32_t generations() const { return static_cast<uint32_t>(rescaled.size() + 1); }
  const JobGraph& JobOf(uint32_t generation) const {
    return generation == 0 ? job : rescaled.at(generation - 1).job;
  }
  const ExecutionPlan& PlanOf(uint32_t generation) const {
    return generation == 0 ? plan : rescaled.at(generation - 1).plan;
  }
  // The generation whose job has exactly `job`'s parallelisms (nullopt: none).
  std::optional<uint32_t> GenerationOf(const Rescale& rescale) const;
};

// Validates and plans; the result is shared by every process. `rescales` are the rescales the
// job may be given (each a plan generation, in order; one equal to the job as submitted or to
// an earlier one is the same generation).
Result<std::shared_ptr<const JobSetup>> PrepareJob(JobGraph job, EngineConfig config,
                                                   ClusterSpec cluster,
                                                   std::vector<Rescale> rescales = {});

// HA store keys and blob names of a job.
std::string HaPointerKey(const JobSetup& setup);
std::string HaCounterKey(const JobSetup& setup);
std::string MetadataBlobName(uint64_t checkpoint_id);

}  // namespace faultline::engine
