// Every teaching switch this build implements plants its mistake, and a direct check catches
// it in a run built to expose it; with the switch off, the same run passes. The checks here are
// the core of the ORACLES.md checkers: exactly-once output by provenance (EO-OUT), durability of
// what a completed checkpoint references (DUR), and restored state equal to what was captured
// (REC).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "engine/api/job.h"
#include "engine/checkpoint/metadata.h"
#include "engine/exec/events.h"
#include "engine/proto/checkpoint.pb.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using engine::EngineEvent;
using engine::Record;

using testing_support::IsEngineEvent;

engine::JobGraph Job(bool back_pressured = false) {
  return testing_support::KeyedJob(
      {.name = "switches", .keyed_record_cost = Duration::Micros(back_pressured ? 500 : 0)});
}

// Watches the trace: crashes a node at a protocol point, and checks DUR and REC as it goes.
class Watch : public sim::TraceObserver {
 public:
  Watch(sim::JobWorld* jw, std::function<bool(const sim::TraceRecord&)> crash_when,
        bool crash_job_manager)
      : jw_(jw), crash_when_(std::move(crash_when)), crash_job_manager_(crash_job_manager) {}

  void OnRecord(const sim::TraceRecord& r) override {
    if (IsEngineEvent(r, EngineEvent::kPointerMoved)) CheckDurable(r.detail);
    if (IsEngineEvent(r, EngineEvent::kRestoreFinished) && r.args[2] != r.args[3]) {
      ++corrupt_restores;  // REC: restored state differs from what was captured
    }
    if (crashed_ || !crash_when_ || !crash_when_(r)) return;
    crashed_ = true;
    const uint32_t victim = crash_job_manager_ ? jw_->job_manager_node() : r.node;
    jw_->world().loop().Schedule(jw_->world().now(), [this, victim] {
      if (!jw_->world().IsUp(victim)) return;
      jw_->world().Crash(victim, "crash point");
      jw_->world().loop().ScheduleAfter(Duration::Millis(400),
                                        [this, victim] { jw_->world().Restart(victim); });
    });
  }

  // DUR: at the moment of completion every blob the checkpoint references is stored.
  void CheckDurable(const std::string& metadata_blob) {
    const runtime::Bytes* bytes = jw_->world().blob_store().Peek(metadata_blob);
    if (bytes == nullptr) {
      ++missing_blobs;
      return;
    }
    Result<engine::proto::CheckpointMetadata> metadata =
        engine::DecodeMetadata(*bytes, metadata_blob);
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    for (const std::string& blob : metadata->referenced_blobs()) {
      if (jw_->world().blob_store().Peek(blob) == nullptr) ++missing_blobs;
    }
  }

  bool crashed() const { return crashed_; }
  int missing_blobs = 0;
  int corrupt_restores = 0;

 private:
  sim::JobWorld* jw_;
  std::function<bool(const sim::TraceRecord&)> crash_when_;
  bool crash_job_manager_;
  bool crashed_ = false;
};

// An injector for one fault point, restricted to targets containing `target`.
class Inject : public sim::FaultInjector {
 public:
  Inject(sim::FaultPoint point, std::string target, sim::FaultEffect effect,
         uint32_t node = 0xffffffffu, uint32_t peer = 0xffffffffu, std::string suffix = "")
      : point_(point),
        target_(std::move(target)),
        effect_(std::move(effect)),
        node_(node),
        peer_(peer),
        suffix_(std::move(suffix)) {}
  std::string op;  // only this service operation, if set

  sim::FaultEffect Decide(const sim::FaultSite& site) override {
    if (site.point != point_) return {};
    if (!target_.empty() && std::string_view(site.target).find(target_) == std::string::npos) {
      return {};
    }
    if (!std::string_view(site.target).ends_with(suffix_)) return {};
    if (!op.empty() && site.op != op) return {};
    if (node_ != 0xffffffffu && site.node != node_) return {};
    if (peer_ != 0xffffffffu && site.peer != peer_) return {};
    return effect_;
  }

 private:
  sim::FaultPoint point_;
  std::string target_;
  sim::FaultEffect effect_;
  uint32_t node_;
  uint32_t peer_;
  std::string suffix_;
};

struct Scenario {
  std::function<bool(const sim::TraceRecord&)> crash_when;
  bool crash_job_manager = false;
  std::unique_ptr<sim::FaultInjector> fault;
  Duration limit = Duration::Seconds(120);
  engine::CheckpointMode mode = engine::CheckpointMode::kAligned;
  bool back_pressured = false;
  uint32_t max_concurrent = 1;
  Duration interval = Duration::Millis(500);
};

struct Outcome {
  engine::JobStatus status;
  bool crashed = false;
  bool exactly_once = false;  // EO-OUT by provenance
  bool lost = false;
  bool duplicated = false;
  int missing_blobs = 0;
  int corrupt_restores = 0;
};

Outcome RunScenario(engine::TeachingSwitches switches, Scenario scenario) {
  engine::EngineConfig config;
  config.checkpoints.interval = scenario.interval;
  config.checkpoints.max_concurrent = scenario.max_concurrent;
  config.checkpoints.mode = scenario.mode;
  config.switches = switches;
  auto jw =
      sim::JobWorld::Create(Job(scenario.back_pressured), config, sim::JobWorldOptions{}).value();
  const std::multiset<uint64_t> ids = testing_support::FillSource(*jw, 4, 6000);
  Watch watch(jw.get(), scenario.crash_when, scenario.crash_job_manager);
  jw->world().trace().AddObserver(&watch);
  if (scenario.fault) jw->world().faults().Install(scenario.fault.get());
  jw->Start();
  Outcome outcome;
  outcome.status = jw->RunUntilDone(Time::Zero() + scenario.limit);
  const std::multiset<uint64_t> reflected = testing_support::Reflected(*jw);
  for (uint64_t id : ids) {
    const size_t n = reflected.count(id);
    outcome.lost = outcome.lost || n == 0;
    outcome.duplicated = outcome.duplicated || n > 1;
  }
  outcome.exactly_once = reflected == ids;
  outcome.crashed = watch.crashed();
  outcome.missing_blobs = watch.missing_blobs;
  outcome.corrupt_restores = watch.corrupt_restores;
  jw->world().trace().RemoveObserver(&watch);
  if (scenario.fault) jw->world().faults().Uninstall(scenario.fault.get());
  return outcome;
}

using Switch = bool engine::TeachingSwitches::*;

engine::TeachingSwitches With(Switch s) {
  engine::TeachingSwitches switches;
  switches.*s = true;
  return switches;
}

// no-alignment: one source's trigger arrives late (a slow JobManager -> TaskManager link), so
// the keyed tasks see barrier n early on some inputs; without blocking those inputs, records
// behind the barrier enter checkpoint n's state and output, and replay after a restore from n
// duplicates them.
Scenario NoAlignmentScenario() {
  Scenario s;
  s.fault = std::make_unique<Inject>(
      sim::FaultPoint::kNetSend, "",
      sim::FaultEffect{.extra_delay = Duration::Millis(300), .fault_name = "slow-control-link"},
      /*node=*/0, /*peer=*/3);
  s.crash_when = [](const sim::TraceRecord& r) {
    return IsEngineEvent(r, EngineEvent::kPointerMoved, 3);
  };
  s.crash_job_manager = true;
  return s;
}

TEST(TeachingSwitchTest, NoAlignmentIsCaughtByExactlyOnceOutput) {
  const Outcome on =
      RunScenario(With(&engine::TeachingSwitches::no_alignment), NoAlignmentScenario());
  ASSERT_TRUE(on.crashed);
  EXPECT_FALSE(on.exactly_once) << "no-alignment went unnoticed";
  EXPECT_TRUE(on.duplicated);
  const Outcome off = RunScenario({}, NoAlignmentScenario());
  ASSERT_TRUE(off.crashed);
  EXPECT_TRUE(off.exactly_once);
}

Scenario CrashJobManagerAfterCompletion() {
  Scenario s;
  s.crash_when = [](const sim::TraceRecord& r) {
    return IsEngineEvent(r, EngineEvent::kPointerMoved, 3);
  };
  s.crash_job_manager = true;
  return s;
}

TEST(TeachingSwitchTest, OffsetAfterEmitLosesRecords) {
  const Outcome on = RunScenario(With(&engine::TeachingSwitches::offset_after_emit),
                                 CrashJobManagerAfterCompletion());
  ASSERT_TRUE(on.crashed);
  EXPECT_TRUE(on.lost) << "offset-after-emit went unnoticed";
  const Outcome off = RunScenario({}, CrashJobManagerAfterCompletion());
  EXPECT_TRUE(off.exactly_once);
}

Scenario CrashTaskManagerMidCheckpoint() {
  Scenario s;
  s.crash_when = [](const sim::TraceRecord& r) {
    return IsEngineEvent(r, EngineEvent::kAckSent, 3);
  };
  return s;
}

// A sink's TaskManager crashes as the sink acknowledges checkpoint 3: with commit-on-snapshot it
// has already committed 3's transaction, which the restore of 2 replays.
Scenario CrashSinkAfterItsSnapshot() {
  Scenario s;
  s.crash_when = [](const sim::TraceRecord& r) {
    return IsEngineEvent(r, EngineEvent::kAckSent, 3) && r.detail.find("out#") != std::string::npos;
  };
  return s;
}

TEST(TeachingSwitchTest, CommitOnSnapshotDuplicatesAfterACrash) {
  const Outcome on =
      RunScenario(With(&engine::TeachingSwitches::commit_on_snapshot), CrashSinkAfterItsSnapshot());
  ASSERT_TRUE(on.crashed);
  EXPECT_TRUE(on.duplicated) << "commit-on-snapshot went unnoticed";
  const Outcome off = RunScenario({}, CrashSinkAfterItsSnapshot());
  EXPECT_TRUE(off.exactly_once);
}

TEST(TeachingSwitchTest, RestoreLatestAttemptBreaksExactlyOnce) {
  const Outcome on = RunScenario(With(&engine::TeachingSwitches::restore_latest_attempt),
                                 CrashTaskManagerMidCheckpoint());
  ASSERT_TRUE(on.crashed);
  EXPECT_FALSE(on.exactly_once) << "restore-latest-attempt went unnoticed";
  const Outcome off = RunScenario({}, CrashTaskManagerMidCheckpoint());
  EXPECT_TRUE(off.exactly_once);
}

// ack-before-upload: the uploads of checkpoint 3's keyed state fail; the task acknowledges
// anyway, and checkpoint 3 completes referencing blobs that do not exist.
Scenario FailedUploadScenario() {
  Scenario s;
  s.fault = std::make_unique<Inject>(
      sim::FaultPoint::kBlobPut, "chk-3/",
      sim::FaultEffect{.error = UnavailableError("503 Service Unavailable"),
                       .fault_name = "blob-write-error"});
  return s;
}

TEST(TeachingSwitchTest, AckBeforeUploadCompletesACheckpointWithMissingBlobs) {
  const Outcome on =
      RunScenario(With(&engine::TeachingSwitches::ack_before_upload), FailedUploadScenario());
  EXPECT_GT(on.missing_blobs, 0) << "ack-before-upload went unnoticed";
  const Outcome off = RunScenario({}, FailedUploadScenario());
  EXPECT_EQ(off.missing_blobs, 0);
  EXPECT_TRUE(off.exactly_once);
}

// skip-checksum: checkpoint 3's keyed state of sum+out#0 is silently corrupted in the blob
// store (one bit of the last stored value, just before the checksum trailer, so the blob still
// parses), then the JobManager fails over and the job restores checkpoint 3. (One task's only:
// a corruption that does not even decode fails its restore, and the job, before the others'
// restores finish.)
Scenario CorruptBlobScenario() {
  Scenario s = CrashJobManagerAfterCompletion();
  s.fault = std::make_unique<Inject>(
      sim::FaultPoint::kBlobPut, "chk-3/sum+out#0/",
      sim::FaultEffect{.corrupt = true, .corrupt_from_end = 8, .fault_name = "bit-rot"},
      0xffffffffu, 0xffffffffu, "/keyed");
  s.limit = Duration::Seconds(30);
  return s;
}

TEST(TeachingSwitchTest, SkipChecksumRestoresCorruptState) {
  const Outcome on =
      RunScenario(With(&engine::TeachingSwitches::skip_checksum), CorruptBlobScenario());
  ASSERT_TRUE(on.crashed);
  EXPECT_GT(on.corrupt_restores, 0) << "skip-checksum went unnoticed";
  const Outcome off = RunScenario({}, CorruptBlobScenario());
  EXPECT_EQ(off.corrupt_restores, 0) << "a blob that fails its checksum must never be used";
}

// drop-channel-state (FLINK-20654): with unaligned checkpoints under back-pressure, the
// restored checkpoint holds in-flight data; ignoring it on restore loses those records.
Scenario UnalignedBackPressureScenario() {
  Scenario s = CrashJobManagerAfterCompletion();
  s.mode = engine::CheckpointMode::kUnaligned;
  s.back_pressured = true;
  return s;
}

TEST(TeachingSwitchTest, DropChannelStateLosesInFlightRecords) {
  const Outcome on = RunScenario(With(&engine::TeachingSwitches::drop_channel_state),
                                 UnalignedBackPressureScenario());
  ASSERT_TRUE(on.crashed);
  EXPECT_TRUE(on.lost) << "drop-channel-state went unnoticed";
  const Outcome off = RunScenario({}, UnalignedBackPressureScenario());
  ASSERT_TRUE(off.crashed);
  EXPECT_TRUE(off.exactly_once);
}

// drop-subsumed-commit (FLINK-10377): with two checkpoints in flight, checkpoint 3's upload is
// slow, so 4 completes first and subsumes 3. The sinks hold pre-committed transactions of both;
// the notification of 4 must commit both.
Scenario OvertakingCheckpointsScenario() {
  Scenario s;
  s.max_concurrent = 2;
  s.interval = Duration::Millis(200);
  s.fault = std::make_unique<Inject>(
      sim::FaultPoint::kBlobPut, "chk-3/",
      sim::FaultEffect{.extra_delay = Duration::Millis(600), .fault_name = "slow-upload"});
  return s;
}

TEST(TeachingSwitchTest, DropSubsumedCommitLosesTheSubsumedTransaction) {
  const Outcome on = RunScenario(With(&engine::TeachingSwitches::drop_subsumed_commit),
                                 OvertakingCheckpointsScenario());
  EXPECT_TRUE(on.lost) << "drop-subsumed-commit went unnoticed";
  const Outcome off = RunScenario({}, OvertakingCheckpointsScenario());
  EXPECT_TRUE(off.exactly_once);
}

TEST(TeachingSwitchTest, EverySwitchIsListedOnceWithItsMistake) {
  std::set<std::string_view> names;
  for (const engine::TeachingSwitchInfo& info : engine::kTeachingSwitches) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_FALSE(info.mistake.empty());
  }
  // ORACLES.md's eleven, and commit-on-savepoint (FLINK-10354, B5 of research/flink.md).
  EXPECT_EQ(names.size(), 12u);
}

// recommit-after-restore: a TaskManager dies the moment one of its sinks commits; the restored
// sinks find that transaction among their pending ones and, with the switch, commit it again.
Scenario CrashAtSinkCommit() {
  Scenario s;
  s.crash_when = [commits = std::make_shared<int>(0)](const sim::TraceRecord& r) {
    return r.kind == sim::TraceKind::kServiceRequest &&
           r.args[1] == static_cast<int64_t>(sim::ServiceOp::kCommit) && ++*commits == 6;
  };
  return s;
}

TEST(TeachingSwitchTest, RecommitAfterRestoreDuplicatesCommittedOutput) {
  const Outcome on =
      RunScenario(With(&engine::TeachingSwitches::recommit_after_restore), CrashAtSinkCommit());
  ASSERT_TRUE(on.crashed);
  EXPECT_TRUE(on.duplicated) << "recommit-after-restore went unnoticed";
  const Outcome off = RunScenario({}, CrashAtSinkCommit());
  ASSERT_TRUE(off.crashed);
  EXPECT_TRUE(off.exactly_once);
}

// no-fencing: the output store is slow to apply node 1's commits (3 s), and node 1 dies the
// moment it asks for its first one. The job restarts from that checkpoint, and the restored
// sinks find the transaction still pre-committed and commit it. Then the dead attempt's
// delayed commit lands: fenced, it is refused; unfenced, the zombie publishes it again.
Scenario ZombieCommit() {
  Scenario s;
  s.crash_when = [](const sim::TraceRecord& r) {
    return r.kind == sim::TraceKind::kServiceRequest && r.node == 1 &&
           r.args[1] == static_cast<int64_t>(sim::ServiceOp::kCommit);
  };
  auto slow = std::make_unique<Inject>(
      sim::FaultPoint::kOutputWrite, "/attempt-1/",
      sim::FaultEffect{.extra_delay = Duration::Seconds(3), .fault_name = "slow-commit"},
      /*node=*/1);
  slow->op = "commit";
  s.fault = std::move(slow);
  return s;
}

TEST(TeachingSwitchTest, NoFencingLetsAZombieCommit) {
  const Outcome on = RunScenario(With(&engine::TeachingSwitches::no_fencing), ZombieCommit());
  ASSERT_TRUE(on.crashed);
  EXPECT_TRUE(on.duplicated) << "no-fencing went unnoticed";
  const Outcome off = RunScenario({}, ZombieCommit());
  ASSERT_TRUE(off.crashed);
  EXPECT_TRUE(off.exactly_once) << "lost " << off.lost << " duplicated " << off.duplicated
                                << " status " << static_cast<int>(off.status);
}

}  // namespace
}  // namespace faultline
