// Where the standard case's time goes (bench/standard_case.textproto, docs/performance.md): the
// whole `faultline run` minus the printing, the simulation alone (engine, simulator, trace,
// faults), the simulation with the checkers' order log and recorder installed, and, over one
// recorded run, RecordRun (the run view) and each default checker on its own.
//
//   build/release/bench/standard_case_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checkers/checker.h"
#include "checkers/registry.h"
#include "faults/fault_runner.h"
#include "scenarios/fault_plan_proto.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "simulator/job_world.h"

namespace {

using faultline::Result;
using faultline::Time;
namespace checkers = faultline::checkers;
namespace scenarios = faultline::scenarios;
namespace sim = faultline::sim;

const char* const kStandardCase = FAULTLINE_BENCH_DIR "/standard_case.textproto";

const scenarios::Scenario& StandardCase() {
  static const scenarios::Scenario* scenario = [] {
    Result<scenarios::Scenario> s = scenarios::LoadScenarioFile(kStandardCase);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
      std::abort();
    }
    return new scenarios::Scenario(std::move(*s));
  }();
  return *scenario;
}

// One simulated run of the standard case (as the runner does it), with or without the checkers'
// order log and recorder.
struct Simulated {
  std::unique_ptr<checkers::OrderLog> order;
  std::unique_ptr<sim::JobWorld> jw;
  std::unique_ptr<faultline::faults::FaultRunner> faults;
  std::unique_ptr<checkers::RunRecorder> recorder;
  faultline::engine::JobStatus status = faultline::engine::JobStatus::kStarting;
};

std::unique_ptr<Simulated> Simulate(bool recorded) {
  const scenarios::proto::Scenario& spec = StandardCase().spec;
  auto run = std::make_unique<Simulated>();
  faultline::engine::EngineConfig config = scenarios::ToEngineConfig(spec).value();
  if (recorded) {
    Simulated* raw = run.get();
    run->order = std::make_unique<checkers::OrderLog>(checkers::OrderLog::Options{
        .now = [raw] { return raw->jw == nullptr ? Time::Zero() : raw->jw->world().now(); }});
    config.observer = run->order.get();
  }
  run->jw = sim::JobWorld::Create(scenarios::ToJobGraph(spec).value(), config,
                                  scenarios::ToJobWorldOptions(spec).value())
                .value();
  const std::vector<std::vector<faultline::engine::Record>> log =
      scenarios::GenerateSourceLog(spec);
  for (uint32_t p = 0; p < log.size(); ++p) {
    for (const faultline::engine::Record& r : log[p]) run->jw->AddSourceRecord(p, r);
  }
  run->faults =
      faultline::faults::FaultRunner::Create(*run->jw, scenarios::FaultPlanFromProto(spec).value())
          .value();
  if (recorded) {
    run->recorder = std::make_unique<checkers::RunRecorder>(*run->jw);
    run->jw->world().trace().AddObserver(run->recorder.get());
  }
  run->faults->Install();
  run->jw->Start();
  run->status = run->jw->RunUntilDone(Time::Zero() + scenarios::RunLimit(spec).value());
  if (recorded) run->jw->world().trace().RemoveObserver(run->recorder.get());
  return run;
}

checkers::RunRecord Record(Simulated& run) {
  checkers::RecordOptions options;
  options.status = run.status;
  const faultline::faults::FaultReport report = run.faults->Report();
  if (report.total_fired() > 0) options.quiet_from = report.quiet_from;
  return checkers::RecordRun(*run.jw, *run.recorder, run.order.get(), options).value();
}

// One recorded run, kept for the checker benchmarks.
struct Recorded {
  std::unique_ptr<Simulated> run = Simulate(true);
  checkers::RunRecord record = Record(*run);
};

Recorded& OneRecordedRun() {
  static Recorded* recorded = new Recorded();
  return *recorded;
}

void WholeRun(benchmark::State& state) {
  for (auto _ : state) {
    Result<scenarios::RunReport> report = scenarios::RunScenario(StandardCase(), {});
    if (!report.ok() || !report->as_expected()) {
      state.SkipWithError("the standard case did not run as expected");
      return;
    }
  }
}

void Simulation(benchmark::State& state, bool recorded) {
  double simulated_s = 0;
  for (auto _ : state) {
    std::unique_ptr<Simulated> run = Simulate(recorded);
    simulated_s = static_cast<double>(run->jw->world().now().nanos()) / 1e9;
  }
  state.counters["simulated_s"] = simulated_s;
}

void RecordRun(benchmark::State& state) {
  Recorded& recorded = OneRecordedRun();
  for (auto _ : state) benchmark::DoNotOptimize(Record(*recorded.run));
}

void Checker(benchmark::State& state, const std::string& id) {
  const checkers::RunRecord& record = OneRecordedRun().record;
  for (auto _ : state) {
    Result<checkers::Verdict> verdict = checkers::RunChecker(id, record);
    if (!verdict.ok() || !verdict->passed()) {
      state.SkipWithError(("checker " + id + " did not pass").c_str());
      return;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("whole_run", WholeRun)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("simulation", Simulation, false)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("simulation_recorded", Simulation, true)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("record_run", RecordRun)->Unit(benchmark::kMillisecond);
  const faultline::engine::EngineConfig config =
      scenarios::ToEngineConfig(StandardCase().spec).value();
  for (const std::string& id : checkers::DefaultCheckers(config.checkpoints.mode, true)) {
    benchmark::RegisterBenchmark(("checker/" + id).c_str(), Checker, id)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
