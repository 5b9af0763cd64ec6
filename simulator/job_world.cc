#include "simulator/job_world.h"

namespace faultline::sim {
namespace {

class JobManagerProcess final : public Process {
 public:
  JobManagerProcess(const runtime::ProcessContext& ctx,
                    std::shared_ptr<const engine::JobSetup> setup)
      : job_manager(ctx, std::move(setup)) {}
  engine::JobManager job_manager;
};

class TaskManagerProcess final : public Process {
 public:
  TaskManagerProcess(const runtime::ProcessContext& ctx,
                     std::shared_ptr<const engine::JobSetup> setup)
      : task_manager(ctx, std::move(setup)) {}
  engine::TaskManager task_manager;
};

}  // namespace

Result<std::unique_ptr<JobWorld>> JobWorld::Create(engine::JobGraph job,
                                                   engine::EngineConfig config,
                                                   JobWorldOptions options) {
  if (options.task_managers == 0) return InvalidArgumentError("a cluster needs a TaskManager");
  std::unique_ptr<JobWorld> jw(new JobWorld());
  jw->world_ = std::make_unique<World>(options.world);
  engine::ClusterSpec cluster;
  cluster.job_manager = 0;
  for (uint32_t i = 1; i <= options.task_managers; ++i) cluster.task_managers.push_back(i);
  FL_ASSIGN_OR_RETURN(jw->setup_,
                      engine::PrepareJob(std::move(job), config, cluster, options.rescales));
  JobWorld* raw = jw.get();
  jw->world_->AddNode("jobmanager", [raw](const runtime::ProcessContext& ctx) {
    return std::make_unique<JobManagerProcess>(ctx, raw->setup_);
  });
  for (uint32_t i = 1; i <= options.task_managers; ++i) {
    jw->world_->AddNode("taskmanager-" + std::to_string(i),
                        [raw](const runtime::ProcessContext& ctx) {
                          return std::make_unique<TaskManagerProcess>(ctx, raw->setup_);
                        });
  }
  jw->world_->source_log().AddPartitions(options.source_partitions);
  return jw;
}

void JobWorld::AddSourceRecord(uint32_t partition, const engine::Record& record) {
  runtime::Bytes payload;
  engine::AppendRecord(payload, record);
  world_->source_log().AppendRecord(partition, std::move(payload));
}

void JobWorld::Start() {
  for (uint32_t n = 0; n < world_->node_count(); ++n) world_->Start(n);
}

engine::JobManager* JobWorld::job_manager() {
  // Asked after every event (RunUntilDone): the cast only when the node's process changed. A
  // process at the same address is one of node 0's JobManager processes, cast the same way.
  Process* const process = world_->ProcessOf(0);
  if (process != jm_process_) {
    auto* jm = dynamic_cast<JobManagerProcess*>(process);
    jm_process_ = process;
    jm_ = jm == nullptr ? nullptr : &jm->job_manager;
  }
  return jm_;
}

uint32_t JobWorld::generation() {
  if (engine::JobManager* jm = job_manager(); jm != nullptr) generation_ = jm->generation();
  return generation_;
}

engine::TaskManager* JobWorld::task_manager(runtime::NodeId node) {
  if (node == 0 || node >= world_->node_count()) return nullptr;
  auto* process = dynamic_cast<TaskManagerProcess*>(world_->ProcessOf(node));
  return process == nullptr ? nullptr : &process->task_manager;
}

engine::JobStatus JobWorld::RunUntilDone(Time limit, const std::function<void()>& poll,
                                         Duration settle) {
  uint64_t events = 0;
  auto done = [this] {
    engine::JobManager* jm = job_manager();
    return jm != nullptr && (jm->status() == engine::JobStatus::kFinished ||
                             jm->status() == engine::JobStatus::kFailed);
  };
  while (true) {
    world_->loop().RunWhile(
        [&] {
          if (poll && (++events & 4095) == 0) poll();
          return !done();
        },
        limit);
    // Let notifications reach the TaskManagers and their sinks commit.
    // A livelock stopped the loop: nothing more will run (the caller reads loop().stuck()).
    if (world_->loop().stuck()) break;
    if (settle > Duration::Zero()) world_->RunFor(settle);
    // A JobManager that failed over after the end re-runs the final checkpoint from the HA
    // store: the job is done when a terminal status holds after the settling time.
    if (done() || world_->now() >= limit || world_->loop().stuck()) break;
  }
  engine::JobManager* jm = job_manager();
  return jm == nullptr ? engine::JobStatus::kStarting : jm->status();
}

std::vector<engine::Record> JobWorld::CommittedOutput() const {
  std::vector<engine::Record> out;
  for (const OutputRecord& r : world_->output_store().visible()) {
    size_t offset = 0;
    Result<engine::Record> record = engine::ReadRecord(r.payload, offset);
    if (record.ok()) out.push_back(std::move(*record));
  }
  return out;
}

}  // namespace faultline::sim
