// A mistake planted in the engine's keyed-state blob writer AND reader (the test seam
// engine::SetPlantedBlobCodecBugForTesting: every value's bytes reversed on the way out and
// reversed back on the way in) is invisible to the engine: its restores round-trip, the
// digests it records and recomputes agree, the output is right. A checker that decoded
// snapshots through the engine's own backend (as EO-CUT once did) saw the values back in order
// and passed, as did REC when it trusted the digests the engine reports after a restore; the
// checkers' own reader of docs/blob-format.md sees the bytes as written, and EO-CUT and REC fail.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "checkers/checker.h"
#include "checkers/order_log.h"
#include "checkers/recorder.h"
#include "engine/state/keyed_state_blob.h"
#include "faults/crash_when.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"
#include "tests/support/recorded_crash_run.h"

namespace faultline {
namespace {

using engine::PlantedBlobCodecBug;

// Plants `bug` for its lifetime.
class ScopedCodecBug {
 public:
  explicit ScopedCodecBug(PlantedBlobCodecBug bug) {
    engine::SetPlantedBlobCodecBugForTesting(bug);
  }
  ~ScopedCodecBug() { engine::SetPlantedBlobCodecBugForTesting(PlantedBlobCodecBug::kNone); }
  ScopedCodecBug(const ScopedCodecBug&) = delete;
  ScopedCodecBug& operator=(const ScopedCodecBug&) = delete;
};

struct Verdicts {
  checkers::Verdict eo_out;
  checkers::Verdict eo_cut;
  checkers::Verdict rec;
};

// The example keyed job; a TaskManager dies as it acknowledges checkpoint 3, so the job
// restores from a blob the planted writer wrote, through the planted reader.
Verdicts RunJob(PlantedBlobCodecBug bug) {
  ScopedCodecBug planted(bug);
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(500);
  const auto crashed = testing_support::RunKeyedJobCrashingAtAck3("codec", config);
  crashed->jw->world().trace().RemoveObserver(crashed->recorder.get());
  EXPECT_EQ(crashed->status, engine::JobStatus::kFinished);
  EXPECT_TRUE(crashed->crashed);
  EXPECT_FALSE(crashed->recorder->recording().restores_finished.empty()) << "the job restored";
  const checkers::RunRecord run =
      checkers::RecordRun(*crashed->jw, *crashed->recorder, &crashed->order).value();
  return {checkers::RunChecker("EO-OUT", run).value(), checkers::RunChecker("EO-CUT", run).value(),
          checkers::RunChecker("REC", run).value()};
}

TEST(PlantedBlobCodecBugTest, TheCheckersOwnReaderSeesWhatTheEnginesRoundTripHides) {
  const Verdicts buggy = RunJob(PlantedBlobCodecBug::kValuesReversed);
  // The engine is self-consistent: the output is exactly once, and the digests it reports
  // after each restore agree with those it recorded (the old REC, which compared them, passed).
  EXPECT_TRUE(buggy.eo_out.passed()) << buggy.eo_out.ToString();
  // The snapshots do not hold the state the spec says they hold: EO-CUT compares them with the
  // reference, REC the digest of what each restore read with the digest recorded at capture.
  EXPECT_TRUE(buggy.eo_cut.violated()) << buggy.eo_cut.ToString();
  EXPECT_TRUE(buggy.rec.violated()) << buggy.rec.ToString();
  std::printf("%s\n%s\n", buggy.eo_cut.ToString().c_str(), buggy.rec.ToString().c_str());

  const Verdicts real = RunJob(PlantedBlobCodecBug::kNone);
  EXPECT_TRUE(real.eo_out.passed()) << real.eo_out.ToString();
  EXPECT_TRUE(real.eo_cut.passed()) << real.eo_cut.ToString();
  EXPECT_TRUE(real.rec.passed()) << real.rec.ToString();
}

}  // namespace
}  // namespace faultline
