// The end of a bounded job (FLIP-147), on real runs of the keyed example job: each task finishes
// only after the final checkpoint's notification reached it and its sink committed; the job is
// FINISHED only when every task finished. A notification lost while the link stays up does not
// hang the job: the coordinator takes another final checkpoint, whose notification subsumes it.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/checkpoint/coordinator.h"
#include "engine/exec/events.h"
#include "engine/exec/job_manager.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline::engine {

// The test seam: replaces the coordinator's way to the TaskManagers.
class CoordinatorTestPeer {
 public:
  explicit CoordinatorTestPeer(CheckpointCoordinator& c) : c_(c) {}
  // Installs `gateway`; returns the one it replaces.
  TaskManagerGateway* SwapGateway(TaskManagerGateway* gateway) {
    std::swap(c_.gateway_, gateway);
    return gateway;
  }

 private:
  CheckpointCoordinator& c_;
};

}  // namespace faultline::engine

namespace faultline {
namespace {

using engine::EngineEvent;

// Forwards everything to the JobManager's gateway, except the first notification of a final
// checkpoint to TaskManager `victim`: lost, while the control channel stays up.
class LoseFirstFinalNotification : public engine::TaskManagerGateway {
 public:
  LoseFirstFinalNotification(std::vector<runtime::NodeId> task_managers, runtime::NodeId victim)
      : task_managers_(std::move(task_managers)), victim_(victim) {}
  void SetReal(engine::TaskManagerGateway* real) { real_ = real; }
  void SendTo(runtime::NodeId node, const engine::ControlMessage& m) override {
    real_->SendTo(node, m);
  }
  void SendToAll(const engine::ControlMessage& m) override {
    if (lost_ != 0 || m.type != engine::ControlType::kNotifyComplete ||
        (m.flags & engine::kNotifyFinal) == 0) {
      real_->SendToAll(m);
      return;
    }
    lost_ = m.checkpoint_id;
    for (runtime::NodeId node : task_managers_) {
      if (node != victim_) real_->SendTo(node, m);
    }
  }
  uint64_t lost() const { return lost_; }

 private:
  std::vector<runtime::NodeId> task_managers_;
  runtime::NodeId victim_;
  engine::TaskManagerGateway* real_ = nullptr;
  uint64_t lost_ = 0;  // the final checkpoint whose notification was lost
};

// What the run's trace says about the end of the job.
class EndOfJob : public sim::TraceObserver {
 public:
  explicit EndOfJob(std::function<void()> on_first_deploy = {})
      : on_first_deploy_(std::move(on_first_deploy)) {}
  void OnRecord(const sim::TraceRecord& r) override {
    if (r.kind == sim::TraceKind::kServiceReply && r.args[0] == 4 && r.args[3] == 0) {
      const auto op = static_cast<sim::ServiceOp>(r.args[1]);
      if (op == sim::ServiceOp::kPreCommit) pre_committed[r.detail] = r.time;
      if (op == sim::ServiceOp::kCommit) committed[r.detail] = r.time;
      return;
    }
    std::optional<sim::EngineEventView> e = sim::EngineEventOf(r);
    if (!e) return;
    switch (e->event) {
      case EngineEvent::kDeployed:
        if (on_first_deploy_) std::exchange(on_first_deploy_, {})();
        break;
      case EngineEvent::kTriggered:
        if (*e->args.final == 1) finals.push_back(static_cast<uint64_t>(*e->args.checkpoint));
        break;
      case EngineEvent::kPointerMoved:
        completed[static_cast<uint64_t>(*e->args.checkpoint)] = r.time;
        break;
      case EngineEvent::kTaskFinished:
        task_finished.push_back({r.time, static_cast<uint64_t>(*e->args.checkpoint)});
        break;
      case EngineEvent::kJobFinished:
        job_finished = r.time;
        job_final = static_cast<uint64_t>(*e->args.final_checkpoint);
        break;
      case EngineEvent::kJobRestart:
        ++restarts;
        break;
      default:
        break;
    }
  }

  std::vector<uint64_t> finals;                          // final checkpoints triggered
  std::map<uint64_t, Time> completed;                    // checkpoint -> its HA pointer move
  std::map<std::string, Time> pre_committed, committed;  // transaction -> when
  std::vector<std::pair<Time, uint64_t>> task_finished;  // when, on which checkpoint
  std::optional<Time> job_finished;
  uint64_t job_final = 0;
  uint32_t restarts = 0;

 private:
  std::function<void()> on_first_deploy_;
};

struct EndRun {
  std::unique_ptr<sim::JobWorld> jw;
  engine::JobStatus status = engine::JobStatus::kStarting;
  bool exactly_once = false;
};

EndRun RunToTheEnd(EndOfJob& end, const std::function<void(sim::JobWorld&)>& before_start = {}) {
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(200);
  EndRun run;
  run.jw = sim::JobWorld::Create(testing_support::KeyedJob({.name = "finish"}), config, {}).value();
  const std::multiset<uint64_t> ids = testing_support::FillSource(*run.jw, 4, 2000);
  if (before_start) before_start(*run.jw);
  run.jw->world().trace().AddObserver(&end);
  run.jw->Start();
  run.status = run.jw->RunUntilDone(Time::Zero() + Duration::Seconds(60));
  run.jw->world().trace().RemoveObserver(&end);
  run.exactly_once = testing_support::Reflected(*run.jw) == ids;
  return run;
}

TEST(FinishProtocolTest, TheJobFinishesAfterEveryTaskAndEveryTaskAfterItsCommits) {
  EndOfJob end;
  EndRun run = RunToTheEnd(end);
  ASSERT_EQ(run.status, engine::JobStatus::kFinished);
  EXPECT_TRUE(run.exactly_once);
  ASSERT_EQ(end.finals.size(), 1u);
  const uint64_t final_id = end.finals[0];
  ASSERT_TRUE(end.completed.count(final_id));
  const Time completed = end.completed.at(final_id);
  ASSERT_TRUE(end.job_finished.has_value());
  EXPECT_EQ(end.job_final, final_id);
  // Every task (4 sources, 4 sum+out) finished on the final checkpoint, after it completed and
  // before the job did.
  ASSERT_EQ(end.task_finished.size(), run.jw->setup().plan.tasks.size());
  for (const auto& [at, checkpoint] : end.task_finished) {
    EXPECT_EQ(checkpoint, final_id);
    EXPECT_GE(at, completed);
    EXPECT_LE(at, *end.job_finished);
  }
  // Every transaction pre-committed was committed, before the job finished; the final ones after
  // the final checkpoint completed (not at the pointer move: the job waited for them).
  ASSERT_FALSE(end.pre_committed.empty());
  size_t after_completion = 0;
  for (const auto& [txn, at] : end.pre_committed) {
    ASSERT_TRUE(end.committed.count(txn)) << txn << " never committed";
    EXPECT_LT(end.committed.at(txn), *end.job_finished) << txn;
    if (end.committed.at(txn) > completed) ++after_completion;
  }
  EXPECT_GE(after_completion, 4u) << "each sink commits the final checkpoint's transaction";
  EXPECT_GT(*end.job_finished, completed);
}

TEST(FinishProtocolTest, ALostFinalNotificationIsSubsumedByAnotherFinalCheckpoint) {
  std::unique_ptr<LoseFirstFinalNotification> lose;
  sim::JobWorld* world = nullptr;
  EndOfJob end([&] {
    // Installed once the JobManager deployed (its coordinator exists).
    engine::CoordinatorTestPeer peer(world->job_manager()->coordinator());
    lose->SetReal(peer.SwapGateway(lose.get()));
  });
  EndRun run = RunToTheEnd(end, [&](sim::JobWorld& jw) {
    world = &jw;
    lose = std::make_unique<LoseFirstFinalNotification>(jw.task_manager_nodes(),
                                                        jw.task_manager_nodes().back());
  });
  ASSERT_EQ(run.status, engine::JobStatus::kFinished);
  EXPECT_TRUE(run.exactly_once);
  EXPECT_EQ(end.restarts, 0u) << "no failover: the link stayed up";
  ASSERT_NE(lose->lost(), 0u);
  // The tasks of the TaskManager that missed it waited; another final checkpoint followed an
  // interval later, and its notification finished them (and committed both transactions).
  ASSERT_EQ(end.finals.size(), 2u);
  EXPECT_EQ(end.finals[0], lose->lost());
  EXPECT_EQ(end.job_final, end.finals[1]);
  size_t on_first = 0, on_second = 0;
  for (const auto& [at, checkpoint] : end.task_finished) {
    if (checkpoint == end.finals[0]) ++on_first;
    if (checkpoint == end.finals[1]) ++on_second;
  }
  EXPECT_GT(on_first, 0u);
  EXPECT_GT(on_second, 0u) << "the victim's tasks finished on the second final checkpoint";
  EXPECT_EQ(on_first + on_second, run.jw->setup().plan.tasks.size());
  for (const auto& [txn, at] : end.pre_committed) {
    EXPECT_TRUE(end.committed.count(txn)) << txn << " never committed";
  }
}

}  // namespace
}  // namespace faultline
