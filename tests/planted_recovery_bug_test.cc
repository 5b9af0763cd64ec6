// A mistake planted in the engine's recovery (the test seam
// engine::SetPlantedRecoveryBugForTesting): a JobManager recovering from the HA store restores
// the checkpoint before the latest one and labels it the latest. Every event the engine records
// agrees with itself: the deployment and each task's restore name the latest checkpoint, and
// each restored digest equals the recorded one (both are the older checkpoint's). REC, when it
// judged those events, passed; it now takes the restored checkpoint from the blobs the restore
// read, and fails.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "checkers/checker.h"
#include "checkers/order_log.h"
#include "checkers/recorder.h"
#include "engine/checkpoint/coordinator.h"
#include "faults/crash_when.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using engine::PlantedRecoveryBug;

class ScopedRecoveryBug {
 public:
  explicit ScopedRecoveryBug(PlantedRecoveryBug bug) {
    engine::SetPlantedRecoveryBugForTesting(bug);
  }
  ~ScopedRecoveryBug() { engine::SetPlantedRecoveryBugForTesting(PlantedRecoveryBug::kNone); }
  ScopedRecoveryBug(const ScopedRecoveryBug&) = delete;
  ScopedRecoveryBug& operator=(const ScopedRecoveryBug&) = delete;
};

struct Outcome {
  checkers::Verdict rec;
  checkers::RunRecord run;
};

Outcome RunJob(PlantedRecoveryBug bug) {
  ScopedRecoveryBug planted(bug);
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(500);
  config.checkpoints.retained = 2;  // the recovering JobManager has an older one to pick
  sim::JobWorld* world = nullptr;
  checkers::OrderLog order(checkers::OrderLog::Options{
      .now = [&world] { return world == nullptr ? Time::Zero() : world->world().now(); }});
  config.observer = &order;
  auto jw =
      sim::JobWorld::Create(testing_support::KeyedJob({.name = "recovery"}), config, {}).value();
  world = jw.get();
  testing_support::FillSource(*jw, 4, 4000);
  faults::CrashWhen crash(
      jw.get(),
      [](const sim::TraceRecord& r) {
        return testing_support::IsEngineEvent(r, engine::EngineEvent::kPointerMoved, 3);
      },
      /*crash_job_manager=*/true);
  checkers::RunRecorder recorder(*jw);
  jw->world().trace().AddObserver(&recorder);
  jw->world().trace().AddObserver(&crash);
  jw->Start();
  jw->RunUntilDone(Time::Zero() + Duration::Seconds(60));
  jw->world().trace().RemoveObserver(&crash);
  jw->world().trace().RemoveObserver(&recorder);
  EXPECT_TRUE(crash.fired());
  checkers::RunRecord run = checkers::RecordRun(*jw, recorder, &order).value();
  checkers::Verdict rec = checkers::RunChecker("REC", run).value();
  return {std::move(rec), std::move(run)};
}

TEST(PlantedRecoveryBugTest, RecSeesTheCheckpointTheRestoreReadNotTheOneReported) {
  const Outcome buggy = RunJob(PlantedRecoveryBug::kRestoresPreviousAsLatest);
  // The engine's own account is consistent: every restore names the checkpoint the HA pointer
  // names, and reports the digest it recorded.
  const checkers::Recording& rec = buggy.run.recording;
  ASSERT_FALSE(rec.restores_finished.empty());
  for (const checkers::RestoreRecord& r : rec.restores) {
    EXPECT_EQ(r.checkpoint, r.pointer_latest) << r.task;
  }
  for (const checkers::RestoreFinishedRecord& f : rec.restores_finished) {
    EXPECT_EQ(f.digest_restored, f.digest_recorded) << f.task;
  }
  // The blobs it read belong to the checkpoint before.
  EXPECT_TRUE(buggy.rec.violated()) << buggy.rec.ToString();
  ASSERT_TRUE(buggy.rec.first().has_value());
  EXPECT_EQ(buggy.rec.first()->what, "recovery did not restore the latest completed checkpoint");
  std::printf("%s\n", buggy.rec.ToString().c_str());

  const Outcome real = RunJob(PlantedRecoveryBug::kNone);
  EXPECT_TRUE(real.rec.passed()) << real.rec.ToString();
  EXPECT_FALSE(real.run.recording.reads.empty()) << "the restore read its blobs";
}

}  // namespace
}  // namespace faultline
