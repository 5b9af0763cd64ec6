// What every process of a job knows up front: the job, the engine settings and the cluster
// (which node runs the JobManager and which run TaskManagers). Immutable and shared, like a
// job's jar and configuration.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
  // The keyed state backend after it, by name ("heap", "rocksdb", ...; empty: the job's
  // configured one) and factory. Only a job resumed from a savepoint changes it: a savepoint is
  // canonical, a checkpoint may not be.
  std::string backend;
  StateBackendFactory state_backend;
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
  std::string backend;  // Rescale::backend (empty: the job's configured backend)
  StateBackendFactory state_backend;
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
  // The state backend of a generation's tasks: its name (empty: the configured one) and factory.
  const std::string& BackendOf(uint32_t generation) const;
  const StateBackendFactory& StateBackendOf(uint32_t generation) const;
  // The generation whose job has exactly `rescale`'s parallelisms and backend (nullopt: none).
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
// Savepoints live apart from checkpoints, as Flink's savepoint directories: every blob of
// savepoint n under "savepoints/sp-<n>", its metadata "savepoints/sp-<n>/_metadata". No job
// owns them, unless one resumed from it in claim mode.
inline constexpr std::string_view kSavepointPrefix = "savepoints/";
std::string SavepointDirectory(uint64_t savepoint_id);
std::string SavepointMetadataBlobName(uint64_t savepoint_id);

}  // namespace faultline::engine
