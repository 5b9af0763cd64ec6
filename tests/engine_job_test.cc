// The engine end to end on the simulator: the example job of the engine issue (a 4-partition
// bounded source -> map -> key_by -> keyed running sum and count -> two-phase-commit sink,
// parallelism 4 on 3 TaskManagers, checkpoints every simulated second).
#include <gtest/gtest.h>

#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/api/job.h"
#include "engine/exec/observer.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using engine::Record;

using RunningSum = testing_support::RunningSumAndCount;

engine::JobGraph ExampleJob(engine::SinkKind sink) {
  engine::JobBuilder job("example");
  job.Source("source", {.source_id = 0, .parallelism = 4})
      .WithRecordCost(Duration::Micros(200))
      .Map("double",
           [](const Record& r) {
             return Record{r.key, r.value * 2, {}};
           })
      .KeyBy([](const Record& r) { return r.key; })
      .Process("sum", std::make_shared<RunningSum>())
      .Sink("out", {.kind = sink});
  Result<engine::JobGraph> graph = job.Build();
  EXPECT_TRUE(graph.ok()) << graph.status().ToString();
  return *graph;
}

struct Expected {
  std::map<std::string, int64_t> sums;
  uint64_t records = 0;
  engine::Provenance provenance;
};

// 4 partitions, `per_partition` records each, keys spread over `keys`.
Expected FillSource(sim::JobWorld& jw, uint32_t per_partition, uint32_t keys) {
  Expected e;
  for (uint32_t p = 0; p < 4; ++p) {
    for (uint32_t i = 0; i < per_partition; ++i) {
      const std::string key = "k" + std::to_string((p * 7919 + i * 31) % keys);
      const int64_t value = static_cast<int64_t>(i % 13) + 1;
      jw.AddSourceRecord(p, Record{key, value, {}});
      e.sums[key] += 2 * value;
      ++e.records;
      e.provenance += engine::Provenance::Of(engine::RecordId{0, p, i});
    }
  }
  return e;
}

// The committed output of a finished run reflects every source record exactly once, and each
// key's last running sum is its total.
void ExpectExactlyOnceOutput(const std::vector<Record>& output, const Expected& expected) {
  ASSERT_EQ(output.size(), expected.records) << "one committed output per input record";
  std::map<std::string, int64_t> last;
  engine::Provenance seen;
  for (const Record& r : output) {
    last[r.key] = r.value;  // running sums: the last committed value per key is the total
    seen += r.provenance;
  }
  EXPECT_EQ(last, expected.sums);
  EXPECT_EQ(seen, expected.provenance) << "every source record reflected exactly once";
}

// The example job with a two-phase-commit sink and 1 s checkpoints; nullptr (and a test
// failure) if it cannot be created.
std::unique_ptr<sim::JobWorld> NewExampleWorld() {
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Seconds(1);
  Result<std::unique_ptr<sim::JobWorld>> created = sim::JobWorld::Create(
      ExampleJob(engine::SinkKind::kTwoPhaseCommit), config, sim::JobWorldOptions{});
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  return created.ok() ? std::move(*created) : nullptr;
}

TEST(EngineJobTest, ExampleJobWithoutFaultsIsExactlyOnce) {
  const std::unique_ptr<sim::JobWorld> world = NewExampleWorld();
  ASSERT_NE(world, nullptr);
  sim::JobWorld& jw = *world;
  const Expected expected = FillSource(jw, 2000, 100);
  jw.Start();
  const engine::JobStatus status = jw.RunUntilDone(Time::Zero() + Duration::Seconds(60));
  ASSERT_EQ(status, engine::JobStatus::kFinished);
  const engine::JobManager& jm = *jw.job_manager();
  EXPECT_EQ(jm.restarts(), 0u);
  EXPECT_GE(jm.latest_completed(), 1u);

  ExpectExactlyOnceOutput(jw.CommittedOutput(), expected);
}

// A livelock (here a world event that reschedules itself at the same instant for ever, as an
// engine bug might) ends the run at the instant time stopped, reported by the loop, instead of
// hanging RunUntilDone (the soak and explore would hang with it).
TEST(EngineJobTest, ALivelockEndsTheRunInsteadOfHangingIt) {
  const std::unique_ptr<sim::JobWorld> world = NewExampleWorld();
  ASSERT_NE(world, nullptr);
  sim::JobWorld& jw = *world;
  FillSource(jw, 2000, 100);
  sim::EventLoop& loop = jw.world().loop();
  std::function<void()> spin = [&] { loop.ScheduleAfter(Duration::Zero(), [&] { spin(); }); };
  loop.Schedule(Time::Zero() + Duration::Millis(200), [&] { spin(); });
  jw.Start();
  const engine::JobStatus status = jw.RunUntilDone(Time::Zero() + Duration::Seconds(60));
  EXPECT_NE(status, engine::JobStatus::kFinished);
  ASSERT_TRUE(loop.stuck().has_value());
  EXPECT_EQ(loop.stuck()->at, Time::Zero() + Duration::Millis(200));
  EXPECT_EQ(jw.world().now(), Time::Zero() + Duration::Millis(200));
}

// A source emits a read batch record by record, each taking its record cost: records leave at
// the source's pace, not a whole batch at once followed by the batch's cost in silence, and its
// input ends after the last one. Found by the generated-case property: a source reading 80
// records at 57 ms each emitted them all at once and ended at once, so a job meant to run 4.5 s
// ended in 80 ms; with the end fixed, the committed output then stood still for 5 s after each
// burst (a LIVE stall).
class EmitTimes : public engine::ProcessingObserver {
 public:
  explicit EmitTimes(sim::JobWorld* const* jw) : jw_(jw) {}
  void OnSourceEmit(uint32_t, uint64_t, const engine::RecordId&) override {
    times.push_back((*jw_)->world().now());
  }
  void OnProcess(uint32_t, uint64_t, uint32_t, const Record&) override {}
  void OnSnapshot(uint32_t, uint64_t, uint64_t) override {}
  void OnStart(uint32_t, uint64_t, uint64_t) override {}
  std::vector<Time> times;

 private:
  sim::JobWorld* const* jw_;
};

TEST(EngineJobTest, ASourceEmitsItsBatchAtItsPaceAndEndsAfterTheLastRecord) {
  engine::JobBuilder job("one-batch");
  job.Source("source", {.source_id = 0, .parallelism = 1, .max_records_per_read = 100})
      .WithRecordCost(Duration::Millis(10))
      .Sink("out", {.kind = engine::SinkKind::kAtLeastOnce});
  sim::JobWorld* world = nullptr;
  EmitTimes emits(&world);
  engine::EngineConfig config;
  config.observer = &emits;
  auto jw = sim::JobWorld::Create(job.Build().value(), config, {}).value();
  world = jw.get();
  for (int i = 0; i < 100; ++i) jw->AddSourceRecord(0, Record{"k", i, {}});
  jw->Start();
  ASSERT_EQ(jw->RunUntilDone(Time::Zero() + Duration::Seconds(60)), engine::JobStatus::kFinished);
  ASSERT_EQ(emits.times.size(), 100u);
  for (size_t i = 1; i < emits.times.size(); ++i) {
    EXPECT_GE(emits.times[i] - emits.times[i - 1], Duration::Millis(10)) << "record " << i;
  }
  std::optional<Time> ended;
  for (const sim::TraceRecord& r : jw->world().trace().records()) {
    if (r.detail.starts_with("source") &&
        testing_support::IsEngineEvent(r, engine::EngineEvent::kEndOfInput)) {
      ended = r.time;
    }
  }
  ASSERT_TRUE(ended.has_value()) << "ended";
  EXPECT_GE(*ended - emits.times.back(), Duration::Millis(10))
      << "the input ended " << (*ended - emits.times.back()).millis()
      << " ms after the last record was emitted";
  EXPECT_EQ(jw->CommittedOutput().size(), 100u);
}

// Records are encoded straight into the open network buffer, which grows a page at a time:
// keys from empty to larger than a page and than a whole buffer (32 KiB) cross it intact.
TEST(EngineJobTest, KeysOfEverySizeCrossTheNetwork) {
  const std::unique_ptr<sim::JobWorld> world = NewExampleWorld();
  ASSERT_NE(world, nullptr);
  sim::JobWorld& jw = *world;
  const size_t sizes[] = {0, 1, 3, 4, 7, 8, 9, 16, 17, 100, 4095, 4096, 5000, 40'000};
  Expected expected;
  for (uint32_t p = 0; p < 4; ++p) {
    for (uint32_t i = 0; i < 300; ++i) {
      const size_t size = sizes[(p + i) % std::size(sizes)];
      std::string key(size, 'a');
      for (size_t b = 0; b < size; ++b) key[b] = static_cast<char>('a' + (b * 7 + size) % 26);
      const int64_t value = static_cast<int64_t>(i % 5) + 1;
      jw.AddSourceRecord(p, Record{key, value, {}});
      expected.sums[key] += 2 * value;
      ++expected.records;
      expected.provenance += engine::Provenance::Of(engine::RecordId{0, p, i});
    }
  }
  jw.Start();
  ASSERT_EQ(jw.RunUntilDone(Time::Zero() + Duration::Seconds(60)), engine::JobStatus::kFinished);
  ExpectExactlyOnceOutput(jw.CommittedOutput(), expected);
}

}  // namespace
}  // namespace faultline

namespace faultline {
namespace {

struct RunResult {
  engine::JobStatus status;
  std::vector<Record> output;
  uint32_t restarts = 0;
  uint64_t completed = 0;
};

void CheckExactlyOnce(const RunResult& run, const Expected& expected) {
  ASSERT_EQ(run.status, engine::JobStatus::kFinished);
  ExpectExactlyOnceOutput(run.output, expected);
}

// Runs the example job with a fault injected at `at` by `inject`.
template <typename Inject>
RunResult RunWithFault(engine::EngineConfig config, Duration at, Inject inject, Expected* expected,
                       uint64_t seed = 1) {
  sim::JobWorldOptions options;
  options.world.seed = seed;
  auto jw =
      sim::JobWorld::Create(ExampleJob(engine::SinkKind::kTwoPhaseCommit), config, options).value();
  *expected = FillSource(*jw, 20000, 100);
  jw->Start();
  jw->world().loop().Schedule(Time::Zero() + at, [&] { inject(*jw); });
  RunResult run;
  run.status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(120));
  run.output = jw->CommittedOutput();
  if (engine::JobManager* jm = jw->job_manager()) {
    run.restarts = jm->restarts();
    run.completed = jm->latest_completed();
  }
  return run;
}

engine::EngineConfig SlowSourceConfig() {
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Seconds(1);
  return config;
}

TEST(EngineRecoveryTest, TaskManagerCrashRestoresTheLatestCheckpointExactlyOnce) {
  Expected expected;
  const RunResult run = RunWithFault(
      SlowSourceConfig(), Duration::Millis(2500),
      [](sim::JobWorld& jw) {
        jw.world().Crash(2, "test: TaskManager crash");
        jw.world().loop().ScheduleAfter(Duration::Millis(500), [&jw] { jw.world().Restart(2); });
      },
      &expected);
  EXPECT_GE(run.restarts, 1u);
  CheckExactlyOnce(run, expected);
}

TEST(EngineRecoveryTest, JobManagerFailoverResumesFromTheHaStore) {
  Expected expected;
  const RunResult run = RunWithFault(
      SlowSourceConfig(), Duration::Millis(2500),
      [](sim::JobWorld& jw) {
        jw.world().Crash(0, "test: JobManager crash");
        jw.world().loop().ScheduleAfter(Duration::Millis(300), [&jw] { jw.world().Restart(0); });
      },
      &expected);
  CheckExactlyOnce(run, expected);
}

}  // namespace
}  // namespace faultline

namespace faultline {
namespace {

TEST(EngineRecoveryTest, AStalledTaskManagerTimesOutAndItsZombieIsFenced) {
  Expected expected;
  engine::EngineConfig config = SlowSourceConfig();
  config.heartbeat_timeout = Duration::Seconds(1);
  const RunResult run = RunWithFault(
      config, Duration::Millis(2500),
      [](sim::JobWorld& jw) {
        jw.world().Pause(3);  // a long GC pause: no heartbeats, no progress
        jw.world().loop().ScheduleAfter(Duration::Seconds(3), [&jw] { jw.world().Resume(3); });
      },
      &expected);
  EXPECT_GE(run.restarts, 1u);
  CheckExactlyOnce(run, expected);
}

TEST(EngineRecoveryTest, RestartStrategyNoneFailsTheJob) {
  Expected expected;
  engine::EngineConfig config = SlowSourceConfig();
  config.restart.kind = engine::RestartStrategy::Kind::kNone;
  const RunResult run = RunWithFault(
      config, Duration::Millis(2500), [](sim::JobWorld& jw) { jw.world().Crash(1, "test"); },
      &expected);
  EXPECT_EQ(run.status, engine::JobStatus::kFailed);
  EXPECT_EQ(run.restarts, 0u);
}

}  // namespace
}  // namespace faultline
