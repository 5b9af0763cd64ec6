// A simulated cluster running one engine job: a JobManager on node 0 and TaskManagers on nodes
// 1..n, over one World. The bridge between the engine (which sees only runtime interfaces) and
// the simulator; scenario runs and engine tests build on it.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "engine/exec/cluster.h"
#include "engine/exec/job_manager.h"
#include "engine/exec/task_manager.h"
#include "simulator/world.h"

namespace faultline::sim {

struct JobWorldOptions {
  WorldOptions world;
  uint32_t task_managers = 3;
  uint32_t source_partitions = 4;
  // The rescales the job may be given during the run (each a plan generation).
  std::vector<engine::Rescale> rescales;
};

class JobWorld {
 public:
  static Result<std::unique_ptr<JobWorld>> Create(engine::JobGraph job, engine::EngineConfig config,
                                                  JobWorldOptions options);

  World& world() { return *world_; }
  const engine::JobSetup& setup() const { return *setup_; }
  runtime::NodeId job_manager_node() const { return 0; }
  const std::vector<runtime::NodeId>& task_manager_nodes() const {
    return setup_->cluster.task_managers;
  }

  // Appends a record to a source partition (before or during the run).
  void AddSourceRecord(uint32_t partition, const engine::Record& record);
  // Starts every process.
  void Start();
  // The JobManager of the current incarnation (null while its node is down).
  engine::JobManager* job_manager();
  // The plan generation the job runs (the JobManager's; the last known while it is down).
  uint32_t generation();
  // The TaskManager on `node` (null while the node is down or runs no TaskManager).
  engine::TaskManager* task_manager(runtime::NodeId node);
  // Runs until the job finished or failed, or `limit` of simulated time passed, then `settle`
  // more simulated time (two seconds unless told) so the final notifications and commits land
  // (zero: stop right there, a prefix of the longer run); if the job is no longer
  // done then (a JobManager failed over and re-runs the final checkpoint), runs on until it is.
  // `poll`, if set, is called every few thousand events (for a progress line); it must not
  // touch the world. Returns early if the event loop's livelock guard trips
  // (world().loop().stuck()).
  engine::JobStatus RunUntilDone(Time limit, const std::function<void()>& poll = {},
                                 Duration settle = Duration::Seconds(2));

  // Side channel: the committed output records (transactional commits and appends, in
  // visibility order; upserts as their final table).
  std::vector<engine::Record> CommittedOutput() const;

 private:
  JobWorld() = default;
  std::unique_ptr<World> world_;
  std::shared_ptr<const engine::JobSetup> setup_;
  Process* jm_process_ = nullptr;  // job_manager()'s last cast, and its result
  engine::JobManager* jm_ = nullptr;
  uint32_t generation_ = 0;
};

}  // namespace faultline::sim
