// A library scenario's job and world (scenarios/library), run by a test with the order log and
// the recorder installed, with the scenario's fault plan (if any) but without its checkers, so the
// test can inject its own fault, read the trace's engine events, read the run as a
// checkers::RunView and alter it. Header-only; needs faultline::scenario_runner.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "checkers/order_log.h"
#include "checkers/recorder.h"
#include "checkers/run_view.h"
#include "faults/fault_runner.h"
#include "scenarios/fault_plan_proto.h"
#include "scenarios/loader.h"
#include "simulator/job_world.h"

namespace faultline::testing_support {

struct LibraryRun {
  sim::JobWorld* world = nullptr;
  checkers::OrderLog log{checkers::OrderLog::Options{
      .now = [this] { return world == nullptr ? Time::Zero() : world->world().now(); }}};
  std::unique_ptr<sim::JobWorld> jw;
  std::unique_ptr<faults::FaultRunner> faults;
  std::unique_ptr<checkers::RunRecorder> recorder;
  engine::JobStatus status = engine::JobStatus::kStarting;

  checkers::RunView View() {
    Result<checkers::RunView> view = checkers::ViewOf(*jw, &log);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return *view;
  }
};

// Runs `dir`/`file`, after `edit` (may change the scenario); `configure` may change the engine
// configuration (a test seam); `before_start` may schedule faults on the world.
inline std::unique_ptr<LibraryRun> RunLibrary(
    const std::string& dir, const std::string& file,
    const std::function<void(sim::JobWorld&)>& before_start = {},
    const std::function<void(scenarios::proto::Scenario&)>& edit = {},
    const std::function<void(engine::EngineConfig&)>& configure = {}) {
  auto run = std::make_unique<LibraryRun>();
  Result<scenarios::Scenario> s = scenarios::LoadScenarioFile(dir + "/" + file);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (edit) edit(s->spec);
  Result<engine::JobGraph> graph = scenarios::ToJobGraph(s->spec);
  Result<engine::EngineConfig> config = scenarios::ToEngineConfig(s->spec);
  Result<sim::JobWorldOptions> options = scenarios::ToJobWorldOptions(s->spec);
  EXPECT_TRUE(graph.ok() && config.ok() && options.ok());
  config->observer = &run->log;
  if (configure) configure(*config);
  run->jw = sim::JobWorld::Create(*graph, *config, *options).value();
  run->world = run->jw.get();
  const std::vector<std::vector<engine::Record>> log = scenarios::GenerateSourceLog(s->spec);
  for (uint32_t p = 0; p < log.size(); ++p) {
    for (const engine::Record& r : log[p]) run->jw->AddSourceRecord(p, r);
  }
  run->faults =
      faults::FaultRunner::Create(*run->jw, scenarios::FaultPlanFromProto(s->spec).value()).value();
  run->recorder = std::make_unique<checkers::RunRecorder>(*run->jw);
  run->jw->world().trace().AddObserver(run->recorder.get());
  run->faults->Install();
  if (before_start) before_start(*run->jw);
  run->jw->Start();
  run->status = run->jw->RunUntilDone(Time::Zero() + scenarios::RunLimit(s->spec).value());
  run->jw->world().trace().RemoveObserver(run->recorder.get());
  return run;
}

}  // namespace faultline::testing_support
