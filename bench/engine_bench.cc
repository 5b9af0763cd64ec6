// Engine throughput: simulated records per second of wall time through the example job
// (4-partition source -> map -> key_by -> keyed running sum -> two-phase-commit sink,
// parallelism 4 on 3 TaskManagers, 1 000 keys, 16-byte records), with checkpoints every
// simulated second and without checkpoints, in the same binary. The ratio is the checkpoint
// overhead.
//
//   build/release/bench/engine_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <memory>

#include "engine/api/job.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using engine::Record;

using testing_support::RunningSum;

constexpr uint32_t kRecordsPerPartition = 50'000;

void RunExampleJob(benchmark::State& state, bool checkpoints) {
  for (auto _ : state) {
    state.PauseTiming();
    engine::JobBuilder job("bench");
    job.Source("source", {.source_id = 0, .parallelism = 4, .max_records_per_read = 256})
        .Map("double",
             [](const Record& r) {
               return Record{r.key, r.value * 2, {}};
             })
        .KeyBy([](const Record& r) { return r.key; })
        .Process("sum", std::make_shared<RunningSum>())
        .Sink("out", {.kind = engine::SinkKind::kTwoPhaseCommit});
    engine::EngineConfig config;
    config.checkpoints.enabled = checkpoints;
    config.checkpoints.interval = Duration::Seconds(1);
    sim::JobWorldOptions options;
    options.world.trace.keep_records = false;
    auto jw = sim::JobWorld::Create(job.Build().value(), config, options).value();
    for (uint32_t p = 0; p < 4; ++p) {
      for (uint32_t i = 0; i < kRecordsPerPartition; ++i) {
        // 16-byte records: a 8-byte key and an 8-byte value.
        jw->AddSourceRecord(p, Record{"key-" + std::to_string((p * 7919 + i) % 1000).substr(0, 4),
                                      static_cast<int64_t>(i),
                                      {}});
      }
    }
    state.ResumeTiming();
    jw->Start();
    const engine::JobStatus status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(3600));
    state.PauseTiming();
    if (status != engine::JobStatus::kFinished) state.SkipWithError("the job did not finish");
    jw.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * 4 * int64_t{kRecordsPerPartition});
}

void BM_ExampleJobWithCheckpoints(benchmark::State& state) {
  RunExampleJob(state, true);
}
void BM_ExampleJobWithoutCheckpoints(benchmark::State& state) {
  RunExampleJob(state, false);
}
BENCHMARK(BM_ExampleJobWithoutCheckpoints)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ExampleJobWithCheckpoints)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace faultline

BENCHMARK_MAIN();
