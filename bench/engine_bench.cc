// Engine throughput: simulated records per second of wall time through the example job
// (4-partition source -> map -> key_by -> keyed running sum and count -> two-phase-commit sink,
// parallelism 4 on 3 TaskManagers, 1 000 keys, 16-byte records), with checkpoints every
// simulated second and without checkpoints, in the same binary. The ratio is the checkpoint
// overhead.
//
//   build/release/bench/engine_bench --benchmark_repetitions=10
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
//   (one command line)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "engine/api/job.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using engine::Record;

using testing_support::RunningSumAndCount;

// The job spans 60 simulated seconds (the example job's length) whatever the record count:
// each source subtask is paced to emit its partition in that time, so with 1 s checkpoints a
// run takes about 60 checkpoints. The argument is the records per partition: 50 000 (3 333
// records per simulated second over 1 000 keys) or 250 000 (16 667 per second).
constexpr Duration kJobLength = Duration::Seconds(60);

void RunExampleJob(benchmark::State& state, bool checkpoints) {
  const auto records_per_partition = static_cast<uint32_t>(state.range(0));
  const Duration source_record_cost =
      Duration::Nanos(kJobLength.nanos() / int64_t{records_per_partition});
  for (auto _ : state) {
    state.PauseTiming();
    engine::JobBuilder job("bench");
    job.Source("source", {.source_id = 0, .parallelism = 4, .max_records_per_read = 256})
        .WithRecordCost(source_record_cost)
        .Map("double",
             [](const Record& r) {
               return Record{r.key, r.value * 2, {}};
             })
        .KeyBy([](const Record& r) { return r.key; })
        .Process("sum", std::make_shared<RunningSumAndCount>())
        .Sink("out", {.kind = engine::SinkKind::kTwoPhaseCommit});
    engine::EngineConfig config;
    config.checkpoints.enabled = checkpoints;
    config.checkpoints.interval = Duration::Seconds(1);
    sim::JobWorldOptions options;
    options.world.trace.keep_records = false;
    auto jw = sim::JobWorld::Create(job.Build().value(), config, options).value();
    for (uint32_t p = 0; p < 4; ++p) {
      for (uint32_t i = 0; i < records_per_partition; ++i) {
        // 16-byte records: an 8-byte key ("key-0000" to "key-0999") and an 8-byte value.
        const std::string number = std::to_string((p * 7919 + i) % 1000);
        jw->AddSourceRecord(p, Record{"key-" + std::string(4 - number.size(), '0') + number,
                                      static_cast<int64_t>(i),
                                      {}});
      }
    }
    state.ResumeTiming();
    jw->Start();
    const engine::JobStatus status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(3600));
    state.PauseTiming();
    if (status != engine::JobStatus::kFinished) state.SkipWithError("the job did not finish");
    state.counters["simulated_s"] = (jw->world().now() - Time::Zero()).seconds();
    state.counters["checkpoints"] = static_cast<double>(jw->job_manager()->latest_completed());
    jw.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * 4 * int64_t{records_per_partition});
}

void BM_ExampleJobWithCheckpoints(benchmark::State& state) {
  RunExampleJob(state, true);
}
void BM_ExampleJobWithoutCheckpoints(benchmark::State& state) {
  RunExampleJob(state, false);
}
// Beside mean, median and spread: the best repetition (on a shared, noisy machine the least
// disturbed run; "max" of items_per_second is the best rate, "min" of the time the best time).
double Max(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}
double Min(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::min_element(v.begin(), v.end());
}
void Configure(benchmark::internal::Benchmark* b) {
  b->Arg(50'000)
      ->Arg(250'000)
      ->Unit(benchmark::kMillisecond)
      ->ComputeStatistics("max", Max)
      ->ComputeStatistics("min", Min);
}
BENCHMARK(BM_ExampleJobWithoutCheckpoints)->Apply(Configure);
BENCHMARK(BM_ExampleJobWithCheckpoints)->Apply(Configure);

}  // namespace
}  // namespace faultline

BENCHMARK_MAIN();
