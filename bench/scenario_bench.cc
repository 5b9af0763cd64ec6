// Wall time of every library scenario (scenarios/library): one benchmark per file, each a full
// `faultline run` minus the printing (job, world, faults, checkers). Target: under 2 s each.
//
//   build/release/bench/scenario_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace {

void RunOne(benchmark::State& state, const std::string& path) {
  auto scenario = faultline::scenarios::LoadScenarioFile(path);
  if (!scenario.ok()) {
    state.SkipWithError(std::string(scenario.status().message()).c_str());
    return;
  }
  uint64_t simulated_ns = 0;
  for (auto _ : state) {
    auto report = faultline::scenarios::RunScenario(*scenario, {});
    if (!report.ok()) {
      state.SkipWithError(std::string(report.status().message()).c_str());
      return;
    }
    if (!report->as_expected()) {
      state.SkipWithError("the verdict is not the expected one");
      return;
    }
    simulated_ns = static_cast<uint64_t>(report->ended.nanos());
  }
  state.counters["simulated_s"] = static_cast<double>(simulated_ns) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(FAULTLINE_SCENARIO_LIBRARY_DIR)) {
    if (entry.path().extension() == ".textproto") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    benchmark::RegisterBenchmark(std::filesystem::path(file).stem().string().c_str(),
                                 [file](benchmark::State& state) { RunOne(state, file); })
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
