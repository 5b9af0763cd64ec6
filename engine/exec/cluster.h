// What every process of a job knows up front: the job, the engine settings and the cluster
// (which node runs the JobManager and which run TaskManagers). Immutable and shared, like a
// job's jar and configuration.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/api/job.h"
#include "engine/exec/config.h"
#include "engine/exec/plan.h"

namespace faultline::engine {

struct ClusterSpec {
  runtime::NodeId job_manager = 0;
  std::vector<runtime::NodeId> task_managers;
};

struct JobSetup {
  JobGraph job;
  EngineConfig config;
  ClusterSpec cluster;
  ExecutionPlan plan;
};

// Validates and plans; the result is shared by every process.
Result<std::shared_ptr<const JobSetup>> PrepareJob(JobGraph job, EngineConfig config,
                                                   ClusterSpec cluster);

// HA store keys and blob names of a job.
std::string HaPointerKey(const JobSetup& setup);
std::string HaCounterKey(const JobSetup& setup);
std::string MetadataBlobName(uint64_t checkpoint_id);

}  // namespace faultline::engine
