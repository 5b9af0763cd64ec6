// Triggers on engine events in a running job, never-firing entries, the nemesis and swarm mode,
// and determinism.
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/exec/events.h"
#include "faults/fault_runner.h"
#include "scenarios/fault_plan_proto.h"
#include "tests/support/job_fixtures.h"
#include "tests/support/plan_text.h"

namespace faultline::faults {
namespace {

// The `faults` and `nemesis` of scenario text, as a plan.
FaultPlan Plan(const std::string& text) {
  return testing_support::PlanFromText(text);
}

struct JobRun {
  std::unique_ptr<sim::JobWorld> jw;
  std::unique_ptr<FaultRunner> runner;
  engine::JobStatus status = engine::JobStatus::kRunning;
  FaultReport report;
  bool exactly_once = false;  // every source record reflected once in the committed output
};

// The keyed example job at parallelism 2 (tasks source#0..1 and sum+out#0..1) over 4 partitions
// of `per_partition` records, checkpoints every 200 ms, under `plan`.
JobRun RunJob(const std::string& plan, uint64_t seed = 1, uint32_t per_partition = 1000) {
  JobRun run;
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(200);
  sim::JobWorldOptions options;
  options.world.seed = seed;
  run.jw =
      sim::JobWorld::Create(testing_support::KeyedJob({.parallelism = 2}), config, options).value();
  const std::multiset<uint64_t> ids = testing_support::FillSource(*run.jw, 4, per_partition);
  run.runner = FaultRunner::Create(*run.jw, Plan(plan)).value();
  run.runner->Install();
  run.jw->Start();
  run.status = run.jw->RunUntilDone(Time::Zero() + Duration::Seconds(60));
  run.report = run.runner->Report();
  run.exactly_once = testing_support::Reflected(*run.jw) == ids;
  return run;
}

// Index of the first trace record matching `match` (-1: none).
template <typename Match>
int Find(const sim::JobWorld& jw, Match match, int nth = 1) {
  const auto& records = const_cast<sim::JobWorld&>(jw).world().trace().records();
  for (size_t i = 0; i < records.size(); ++i) {
    if (match(records[i]) && --nth == 0) return static_cast<int>(i);
  }
  return -1;
}

bool IsFired(const sim::TraceRecord& r, std::string_view name) {
  return r.kind == sim::TraceKind::kFaultFired && r.detail == name;
}

TEST(TriggerTest, BarrierReceivedOnAnInputOfASubtask) {
  JobRun run = RunJob(
      R"(faults { name: "align" trigger { on { event: "barrier-received" checkpoint: 2 subtask: "sum#1" input: 1 } }
                                  crash_task_manager { task_manager: 2 restart_after: "300ms" } })");
  EXPECT_EQ(run.status, engine::JobStatus::kFinished);
  const int match = Find(*run.jw, [](const sim::TraceRecord& r) {
    return r.kind == sim::TraceKind::kEngine &&
           r.args[0] == engine::Ev(engine::EngineEvent::kBarrierReceived) && r.args[1] == 2 &&
           r.args[2] == 1 && r.detail == "sum+out#1";
  });
  const int fired = Find(*run.jw, [](const sim::TraceRecord& r) { return IsFired(r, "align"); });
  ASSERT_GE(match, 0);
  ASSERT_GT(fired, match);
  const auto& records = run.jw->world().trace().records();
  EXPECT_EQ(records[static_cast<size_t>(fired)].time, records[static_cast<size_t>(match)].time);
  // The crash is the very next thing that happens to the world after the firing.
  EXPECT_EQ(records[static_cast<size_t>(fired) + 1].kind, sim::TraceKind::kNodeCrash);
  ASSERT_EQ(run.report.entries.size(), 1u);
  EXPECT_TRUE(run.report.entries[0].fired);
  EXPECT_EQ(run.report.entries[0].fired_at, records[static_cast<size_t>(match)].time);
  EXPECT_TRUE(run.report.conclusive());
}

TEST(TriggerTest, SecondUploadOfACheckpointWithADelay) {
  JobRun run = RunJob(
      R"(faults { name: "late" trigger { on { event: "uploaded" checkpoint: 2 occurrence: 2 delay: "10ms" } }
                                  crash_job_manager { restart_after: "300ms" } })");
  EXPECT_EQ(run.status, engine::JobStatus::kFinished);
  const int second = Find(
      *run.jw,
      [](const sim::TraceRecord& r) {
        return r.kind == sim::TraceKind::kEngine &&
               r.args[0] == engine::Ev(engine::EngineEvent::kUploaded) && r.args[1] == 2;
      },
      2);
  ASSERT_GE(second, 0);
  const Time at = run.jw->world().trace().records()[static_cast<size_t>(second)].time;
  EXPECT_EQ(run.report.entries[0].fired_at, at + Duration::Millis(10));
  EXPECT_TRUE(run.report.entries[0].effective);
}

// The engine retries throttled uploads and metadata writes with backoff
// (engine/exec/retrying_blob_store.h): checkpoints complete during the throttle, none is aborted,
// and the output is exactly once.
TEST(BlobThrottleTest, TheEngineRetriesAndCheckpointsCompleteDuringTheThrottle) {
  JobRun run = RunJob(
      R"(faults { name: "slow-down" trigger { on { event: "checkpoint-triggered" checkpoint: 2 } }
                  blob_throttle { rate: 0.3 duration: "3s" } })",
      /*seed=*/1, /*per_partition=*/10000);
  EXPECT_EQ(run.status, engine::JobStatus::kFinished);
  EXPECT_TRUE(run.exactly_once);
  ASSERT_EQ(run.report.entries.size(), 1u);
  EXPECT_TRUE(run.report.entries[0].effective);
  EXPECT_GT(run.report.entries[0].injections, 5u);
  const Time from = run.report.entries[0].fired_at;
  int completed_during = 0;
  int aborted = 0;
  for (const sim::TraceRecord& r : run.jw->world().trace().records()) {
    if (testing_support::IsEngineEvent(r, engine::EngineEvent::kCheckpointAborted)) ++aborted;
    if (testing_support::IsEngineEvent(r, engine::EngineEvent::kPointerMoved) && r.time > from &&
        r.time < from + Duration::Seconds(3)) {
      ++completed_during;
    }
  }
  EXPECT_EQ(aborted, 0);
  EXPECT_GE(completed_during, 3);
}

TEST(TriggerTest, CheckpointTriggeredThenANeverFiringEntryIsReported) {
  JobRun run =
      RunJob(R"(faults { name: "cp3" trigger { on { event: "checkpoint-triggered" checkpoint: 3 } }
                                  fail_task { subtask: "sum#0" } }
                         faults { name: "never" trigger { on { event: "checkpoint-triggered" checkpoint: 999 } }
                                  crash_job_manager { never_restart: true } })");
  EXPECT_EQ(run.status, engine::JobStatus::kFinished);
  const int triggered = Find(*run.jw, [](const sim::TraceRecord& r) {
    return r.kind == sim::TraceKind::kEngine &&
           r.args[0] == engine::Ev(engine::EngineEvent::kTriggered) && r.args[1] == 3;
  });
  ASSERT_GE(triggered, 0);
  EXPECT_EQ(run.report.entries[0].fired_at,
            run.jw->world().trace().records()[static_cast<size_t>(triggered)].time);
  EXPECT_TRUE(run.report.entries[0].effective);
  // The failed task restarted the job.
  EXPECT_GE(Find(*run.jw,
                 [](const sim::TraceRecord& r) {
                   return r.kind == sim::TraceKind::kEngine &&
                          r.args[0] == engine::Ev(engine::EngineEvent::kJobRestart);
                 }),
            0);
  EXPECT_FALSE(run.report.entries[1].fired);
  EXPECT_EQ(run.report.never_fired, std::vector<std::string>{"never"});
  EXPECT_FALSE(run.report.conclusive());
}

// --- nemesis and swarm --------------------------------------------------------------------------

std::string AllKindsNemesis(const std::string& phase, double per_minute, bool swarm) {
  std::string text = "nemesis { fault_phase: \"" + phase + "\" quiet_phase: \"5s\"";
  for (const FaultKindInfo& info : kFaultKinds) {
    text += " rates { kind: \"" + std::string(info.name) +
            "\" per_minute: " + std::to_string(per_minute) + " }";
  }
  return text + (swarm ? " swarm: true }" : " }");
}

// A bare world of three nodes with a background workload touching every operation fault point
// but the network's, every 20 ms.
struct BareRun {
  std::unique_ptr<sim::World> world;
  std::unique_ptr<FaultRunner> runner;
};

BareRun RunBare(uint64_t seed, const std::string& plan, Duration until) {
  BareRun run;
  sim::WorldOptions options;
  options.seed = seed;
  options.trace.keep_records = false;
  run.world = std::make_unique<sim::World>(options);
  sim::World& w = *run.world;
  for (int n = 0; n < 3; ++n) w.Start(w.AddNode("node-" + std::to_string(n), nullptr));
  w.source_log().AddPartitions(1);
  w.source_log().AppendRecord(0, runtime::Bytes{1, 2, 3});
  FaultTargets targets;
  targets.task_managers = {1, 2};
  targets.task_names = {"work#0"};
  targets.resolve_subtask = [](std::string_view) { return std::optional<uint32_t>(0); };
  targets.fail_task = [](uint32_t, const Status&) { return true; };
  run.runner = FaultRunner::Create(w, std::move(targets), Plan(plan)).value();
  run.runner->Install();
  for (Time t = Time::Zero(); t < Time::Zero() + until; t += Duration::Millis(20)) {
    w.loop().Schedule(t, [&w] {
      const runtime::Bytes data{1, 2, 3, 4};
      w.blob_store().Put(1, "cp/x", data, [](Status) {});
      w.blob_store().Get(1, "cp/x", [](Result<runtime::Bytes>) {});
      w.blob_store().List(1, "cp/", [](Result<std::vector<std::string>>) {});
      for (uint32_t n = 0; n < 3; ++n) {
        sim::SimDisk& disk = w.disk(n);
        if (!disk.Size("f").ok()) disk.Create("f").IgnoreError();
        disk.Append("f", data).IgnoreError();
        disk.Sync("f").IgnoreError();
      }
      w.source_log().Read(1, 0, 0, 8, [](Result<runtime::LogBatch>) {});
      w.output_store().Append(1, {"w", 1}, {data}, [](Status) {});
    });
  }
  w.RunUntil(Time::Zero() + until);
  return run;
}

TEST(NemesisTest, FaultsOnlyInTheFaultPhase) {
  BareRun run = RunBare(3, AllKindsNemesis("10s", 20, false), Duration::Seconds(16));
  const FaultReport report = run.runner->Report();
  EXPECT_GT(report.nemesis_fired, 50u);
  EXPECT_EQ(report.quiet_from, Time::Zero() + Duration::Seconds(10));
  EXPECT_EQ(report.nemesis_rates.size(), kFaultKindCount);
  // Every node is back up and running at the end of the fault phase.
  for (uint32_t n = 0; n < 3; ++n) {
    EXPECT_TRUE(run.world->IsUp(n)) << n;
    EXPECT_FALSE(run.world->IsPaused(n)) << n;
  }
  EXPECT_EQ(run.world->network().active_partitions(), 0u);
}

TEST(NemesisTest, SwarmOver200SeedsInjectsEveryKind) {
  std::array<uint64_t, kFaultKindCount> fired{};
  std::array<uint64_t, kFaultKindCount> injected{};
  std::set<size_t> subset_sizes;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    BareRun run = RunBare(seed, AllKindsNemesis("3s", 6, true), Duration::Seconds(4));
    const FaultReport report = run.runner->Report();
    subset_sizes.insert(report.nemesis_rates.size());
    for (size_t k = 0; k < kFaultKindCount; ++k) {
      fired[k] += report.fired[k];
      injected[k] += report.injections[k];
    }
  }
  for (const FaultKindInfo& info : kFaultKinds) {
    const size_t k = static_cast<size_t>(info.kind);
    EXPECT_GT(fired[k], 0u) << info.name;
    // Operation kinds hit operations of the workload (it has no network traffic).
    const bool network = info.kind == FaultKind::kLatencySpike || info.kind == FaultKind::kClog;
    const bool operation =
        info.category == FaultCategory::kBlobStore || info.category == FaultCategory::kExternal ||
        (info.category == FaultCategory::kLocalDisk && info.kind != FaultKind::kDiskUnsyncedLoss);
    if (operation && !network) {
      EXPECT_GT(injected[k], 0u) << info.name;
    }
  }
  EXPECT_GT(subset_sizes.size(), 5u);  // seeds choose different subsets
}

TEST(NemesisTest, SwarmSelectionIsDeterministicInTheSeed) {
  auto rates = [](uint64_t seed) {
    BareRun run = RunBare(seed, AllKindsNemesis("1s", 6, true), Duration::Millis(10));
    return run.runner->nemesis_rates();
  };
  EXPECT_EQ(rates(7), rates(7));
  EXPECT_NE(rates(7), rates(8));
}

TEST(DeterminismTest, SameSeedAndPlanGiveTheSameTraceHash) {
  const std::string plan =
      R"(faults { name: "c" trigger { on { event: "ack-sent" checkpoint: 2 subtask: "source#0" } }
                  crash_task_manager { task_manager: 1 restart_after: "200ms" } }
         faults { name: "b" trigger { at: "300ms" } blob_write_error { scope { count: 2 } } }
         nemesis { fault_phase: "3s" quiet_phase: "2s"
                   rates { kind: "crash_task_manager" per_minute: 20 }
                   rates { kind: "pause" per_minute: 30 }
                   rates { kind: "latency_spike" per_minute: 30 }
                   rates { kind: "blob_latency" per_minute: 60 }
                   rates { kind: "clock_drift" per_minute: 30 } })";
  JobRun a = RunJob(plan, 11);
  JobRun b = RunJob(plan, 11);
  JobRun c = RunJob(plan, 12);
  EXPECT_EQ(a.jw->world().trace().hash(), b.jw->world().trace().hash());
  EXPECT_EQ(a.report.ToString(), b.report.ToString());
  EXPECT_EQ(a.report.fired, b.report.fired);
  EXPECT_NE(a.jw->world().trace().hash(), c.jw->world().trace().hash());
  EXPECT_GT(a.report.nemesis_fired, 0u);
}

}  // namespace
}  // namespace faultline::faults
