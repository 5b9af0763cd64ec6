// The keyed example job (job_fixtures.h: 4 partitions of 4000 records) run with the checkers' order
// log and run recorder installed, and the TaskManager of the first task to acknowledge checkpoint
// 3 crashed as it does (restarted 400 ms later), so the job restores. Tests read the run through
// `recorder` and `order`, or make a checkers::RunRecord of it; the recorder stays installed so a
// test may go on with the world.
#pragma once

#include <memory>
#include <string>

#include "checkers/order_log.h"
#include "checkers/recorder.h"
#include "engine/exec/config.h"
#include "faults/crash_when.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline::testing_support {

struct RecordedCrashRun {
  sim::JobWorld* world = nullptr;
  checkers::OrderLog order{checkers::OrderLog::Options{
      .now = [this] { return world == nullptr ? Time::Zero() : world->world().now(); }}};
  std::unique_ptr<sim::JobWorld> jw;
  std::unique_ptr<checkers::RunRecorder> recorder;
  std::unique_ptr<faults::CrashWhen> crash;  // alive as long as the world (its restart)
  engine::JobStatus status = engine::JobStatus::kStarting;
  bool crashed = false;
};

// `config` without its observer (the order log is installed here); runs up to 60 simulated s.
inline std::unique_ptr<RecordedCrashRun> RunKeyedJobCrashingAtAck3(const std::string& name,
                                                                   engine::EngineConfig config) {
  auto run = std::make_unique<RecordedCrashRun>();
  config.observer = &run->order;
  run->jw = sim::JobWorld::Create(KeyedJob({.name = name}), config, {}).value();
  run->world = run->jw.get();
  sim::JobWorld& jw = *run->jw;
  FillSource(jw, 4, 4000);
  run->crash = std::make_unique<faults::CrashWhen>(
      &jw,
      [](const sim::TraceRecord& r) { return IsEngineEvent(r, engine::EngineEvent::kAckSent, 3); },
      /*crash_job_manager=*/false);
  run->recorder = std::make_unique<checkers::RunRecorder>(jw);
  jw.world().trace().AddObserver(run->recorder.get());
  jw.world().trace().AddObserver(run->crash.get());
  jw.Start();
  run->status = jw.RunUntilDone(Time::Zero() + Duration::Seconds(60));
  jw.world().trace().RemoveObserver(run->crash.get());
  run->crashed = run->crash->fired();
  return run;
}

}  // namespace faultline::testing_support
