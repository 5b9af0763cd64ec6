// faultline-gui's time travel (issue 14: scrubbing back to any moment of a 60-simulated-second
// run takes at most 300 ms): the standard case (bench/standard_case.textproto, 60 s simulated)
// recorded once, then seeks to moments spread over the run in an order that jumps backwards as
// often as forwards, each restoring the nearest keyframe and folding the records after it.
// Baseline in the same process: folding the whole run from zero (what a seek would cost
// without keyframes).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "gui/core/recording.h"
#include "gui/core/timeline.h"
#include "scenarios/loader.h"

namespace faultline::gui {
namespace {

const Recording& StandardCase() {
  static const std::unique_ptr<Recording> recording = [] {
    Result<scenarios::Scenario> s =
        scenarios::LoadScenarioFile(std::string(FAULTLINE_BENCH_DIR) + "/standard_case.textproto");
    if (!s.ok()) {
      std::cerr << s.status().ToString() << "\n";
      std::abort();
    }
    Result<Recording> r = RecordRun(*s, {});
    if (!r.ok()) {
      std::cerr << r.status().ToString() << "\n";
      std::abort();
    }
    return std::make_unique<Recording>(std::move(*r));
  }();
  return *recording;
}

// Baseline: the state at the end by folding every record from zero.
void BM_FoldWholeRun(benchmark::State& state) {
  const Recording& r = StandardCase();
  for (auto _ : state) {
    RunState s;
    for (const sim::TraceRecord& record : r.records) Apply(r, record, s);
    benchmark::DoNotOptimize(s.applied);
  }
  state.counters["records"] = static_cast<double>(r.records.size());
}
BENCHMARK(BM_FoldWholeRun)->Unit(benchmark::kMillisecond);

// One seek per iteration, to moments 37 % of the run apart (so every other one jumps back).
void BM_Scrub(benchmark::State& state) {
  const Recording& r = StandardCase();
  Timeline timeline(r);
  const int64_t end = timeline.end().nanos();
  int64_t at = 0;
  for (auto _ : state) {
    at = (at + end * 37 / 100) % end;
    timeline.SeekTime(Time::Zero() + Duration::Nanos(at));
    benchmark::DoNotOptimize(timeline.state().applied);
  }
  state.counters["simulated_s"] = static_cast<double>(end) / 1e9;
}
BENCHMARK(BM_Scrub)->Unit(benchmark::kMillisecond);

// Building the timeline (its keyframes) once a run is recorded.
void BM_BuildTimeline(benchmark::State& state) {
  const Recording& r = StandardCase();
  for (auto _ : state) {
    Timeline timeline(r);
    benchmark::DoNotOptimize(timeline.size());
  }
}
BENCHMARK(BM_BuildTimeline)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace faultline::gui

BENCHMARK_MAIN();
