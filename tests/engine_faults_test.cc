// Crashes at protocol points, not just at times: a TaskManager or the JobManager dies the
// moment a named engine event happens (barrier received, aligned, snapshot captured, state
// uploaded, acknowledgement sent, metadata written, HA pointer moved, notification sent, sink
// commit, restore started), in each checkpointing mode. The test asserts from the trace that
// each crash point was reached, and then that exactly-once (or at-least-once) held, with keyed
// state on the heap, in RocksDB (full snapshots) and in RocksDB with incremental checkpoints.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "engine/api/job.h"
#include "engine/exec/events.h"
#include "engine/state/rocksdb/rocksdb_state_backend.h"
#include "faults/crash_when.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using engine::Record;
using faults::CrashWhen;
using testing_support::FillSource;
using testing_support::KeyedJob;
using testing_support::Reflected;

// `back_pressured`: the keyed operator is slower than its sources, so its input queues fill and
// unaligned barriers overtake in-flight data.
engine::JobGraph Job(bool back_pressured = false) {
  return KeyedJob(
      {.name = "faults", .keyed_record_cost = Duration::Micros(back_pressured ? 500 : 0)});
}

std::multiset<uint64_t> Fill(sim::JobWorld& jw, uint32_t per_partition) {
  return FillSource(jw, 4, per_partition);
}

using CrashOnEvent = CrashWhen;

CrashOnEvent::Match EngineEvent(engine::EngineEvent event, uint64_t checkpoint_min = 2) {
  return [event, checkpoint_min](const sim::TraceRecord& r) {
    return r.kind == sim::TraceKind::kEngine && r.args[0] == engine::Ev(event) &&
           (event == engine::EngineEvent::kRestoreStarted ||
            static_cast<uint64_t>(r.args[1]) >= checkpoint_min);
  };
}

struct Point {
  std::string name;
  CrashOnEvent::Match match;
  bool job_manager;
  bool needs_earlier_crash = false;  // the point exists only during a recovery
  bool unaligned_only = false;       // the point exists only with unaligned checkpoints
};

std::vector<Point> Points() {
  using E = engine::EngineEvent;
  return {
      {"barrier-received", EngineEvent(E::kBarrierReceived), false},
      {"aligned", EngineEvent(E::kAligned), false},
      {"snapshot-captured", EngineEvent(E::kSnapshotCaptured), false},
      {"uploaded", EngineEvent(E::kUploaded), false},
      {"ack-sent", EngineEvent(E::kAckSent), false},
      {"sink-commit",
       [](const sim::TraceRecord& r) {
         return r.kind == sim::TraceKind::kServiceRequest &&
                r.args[1] == static_cast<int64_t>(sim::ServiceOp::kCommit);
       },
       false},
      {"triggered", EngineEvent(E::kTriggered), true},
      {"all-acknowledged", EngineEvent(E::kAllAcknowledged), true},
      {"metadata-written", EngineEvent(E::kMetadataWritten), true},
      {"pointer-moved", EngineEvent(E::kPointerMoved), true},
      {"notification-sent", EngineEvent(E::kNotificationSent), true},
      {"restore-started", EngineEvent(E::kRestoreStarted), false, true},
      {"channel-state-replayed", EngineEvent(E::kChannelStateReplayed, 0), false, true, true},
  };
}

struct Outcome {
  engine::JobStatus status;
  std::multiset<uint64_t> reflected;  // provenance hash of every committed output
  bool all_single = true;             // every output reflects exactly one source record
};

enum class Backend { kHeap, kRocksDb, kRocksDbIncremental };

Outcome RunWithCrash(engine::CheckpointMode mode, Backend backend, const Point& point,
                     std::multiset<uint64_t>* ids, bool* fired, bool* restored) {
  engine::EngineConfig config;
  config.checkpoints.mode = mode;
  if (backend != Backend::kHeap) {
    // Incremental: compact at every other checkpoint, so restores meet replaced files.
    config.state_backend = engine::RocksDbStateBackends(
        {.incremental = backend == Backend::kRocksDbIncremental, .compaction_l0_files = 2});
  }
  config.checkpoints.interval = Duration::Millis(500);
  auto jw =
      sim::JobWorld::Create(Job(point.unaligned_only), config, sim::JobWorldOptions{}).value();
  *ids = Fill(*jw, point.unaligned_only ? 3000 : 6000);
  CrashOnEvent crash(jw.get(), point.match, point.job_manager);
  CrashOnEvent earlier(jw.get(), EngineEvent(engine::EngineEvent::kAckSent), false);
  jw->world().trace().AddObserver(&crash);
  if (point.needs_earlier_crash) jw->world().trace().AddObserver(&earlier);
  jw->Start();
  Outcome outcome;
  outcome.status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(120));
  for (const Record& r : jw->CommittedOutput()) {
    outcome.reflected.insert(r.provenance.hash_sum);
    outcome.all_single = outcome.all_single && r.provenance.count == 1;
  }
  *fired = crash.fired();
  jw->world().trace().RemoveObserver(&crash);
  jw->world().trace().RemoveObserver(&earlier);
  *restored = false;
  for (const sim::TraceRecord& r : jw->world().trace().records()) {
    if (r.kind == sim::TraceKind::kEngine &&
        r.args[0] == engine::Ev(engine::EngineEvent::kDeployed) && r.args[2] > 0) {
      *restored = true;
    }
  }
  return outcome;
}

class ProtocolPointCrashTest
    : public ::testing::TestWithParam<std::tuple<engine::CheckpointMode, int, Backend>> {};

TEST_P(ProtocolPointCrashTest, RecoveryKeepsTheModesGuarantee) {
  const auto [mode, index, backend] = GetParam();
  const Point point = Points()[static_cast<size_t>(index)];
  std::multiset<uint64_t> ids;
  bool fired = false;
  bool restored = false;
  const Outcome outcome = RunWithCrash(mode, backend, point, &ids, &fired, &restored);
  if (point.unaligned_only && mode != engine::CheckpointMode::kUnaligned) {
    EXPECT_FALSE(fired) << point.name << " happened without unaligned checkpoints";
  } else {
    ASSERT_TRUE(fired) << "the crash point " << point.name << " was never reached";
  }
  ASSERT_EQ(outcome.status, engine::JobStatus::kFinished) << point.name;
  EXPECT_TRUE(restored) << "the crash at " << point.name << " did not lead to a restore";
  EXPECT_TRUE(outcome.all_single);
  if (mode == engine::CheckpointMode::kAtLeastOnce) {
    for (uint64_t id : ids) {
      ASSERT_GE(outcome.reflected.count(id), 1u) << "a source record was lost at " << point.name;
    }
  } else {
    EXPECT_EQ(outcome.reflected, ids) << "exactly-once broken by a crash at " << point.name;
  }
}

std::string PointName(
    const ::testing::TestParamInfo<std::tuple<engine::CheckpointMode, int, Backend>>& p) {
  static constexpr const char* kBackends[] = {"heap", "rocksdb", "rocksdb_incremental"};
  std::string name = std::string(engine::CheckpointModeName(std::get<0>(p.param))) + "_" +
                     Points()[static_cast<size_t>(std::get<1>(p.param))].name + "_" +
                     kBackends[static_cast<int>(std::get<2>(p.param))];
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllPoints, ProtocolPointCrashTest,
                         ::testing::Combine(::testing::Values(engine::CheckpointMode::kAligned,
                                                              engine::CheckpointMode::kUnaligned,
                                                              engine::CheckpointMode::kAtLeastOnce),
                                            ::testing::Range(0, static_cast<int>(Points().size())),
                                            ::testing::Values(Backend::kHeap, Backend::kRocksDb,
                                                              Backend::kRocksDbIncremental)),
                         PointName);

}  // namespace
}  // namespace faultline

namespace faultline {
namespace {

// For its first two simulated seconds, the JobManager's link to TaskManager 3 is slow: that
// TaskManager's sources get their triggers late, so barriers reach the keyed tasks far apart.
// Aligned: checkpoints expire while tasks align (a cancellation: inputs must unblock, and late
// barriers of the aborted checkpoint must be ignored). Unaligned: barriers of a later
// checkpoint overtake on some inputs. Later checkpoints complete and exactly-once holds.
class Delay : public sim::FaultInjector {
 public:
  sim::FaultEffect Decide(const sim::FaultSite& site) override {
    if (site.point != sim::FaultPoint::kNetSend || site.node != 0 || site.peer != 3 ||
        site.now > Time::Zero() + Duration::Seconds(2)) {
      return {};
    }
    return sim::FaultEffect{.extra_delay = Duration::Millis(250), .fault_name = "slow-link"};
  }
};

class OvertakingBarrierTest : public ::testing::TestWithParam<engine::CheckpointMode> {};

TEST_P(OvertakingBarrierTest, CancelledAndOvertakenCheckpointsKeepExactlyOnce) {
  engine::EngineConfig config;
  config.checkpoints.mode = GetParam();
  config.checkpoints.interval = Duration::Millis(100);
  config.checkpoints.max_concurrent = GetParam() == engine::CheckpointMode::kUnaligned ? 1 : 3;
  config.checkpoints.tolerable_failures = 1000;
  config.checkpoints.history = 1000;  // the statistics of every checkpoint, counted below
  config.checkpoints.timeout = Duration::Millis(200);
  auto jw = sim::JobWorld::Create(Job(), config, sim::JobWorldOptions{}).value();
  const std::multiset<uint64_t> ids = Fill(*jw, 4000);
  Delay delay;
  jw->world().faults().Install(&delay);
  jw->Start();
  const engine::JobStatus status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(120));
  jw->world().faults().Uninstall(&delay);
  if (status != engine::JobStatus::kFinished) {
    for (const engine::CheckpointStats& s : jw->job_manager()->history()) {
      std::printf("checkpoint %lu status %d final %d %s\n", s.id, static_cast<int>(s.status),
                  s.final, s.failure.c_str());
    }
  }
  ASSERT_EQ(status, engine::JobStatus::kFinished);
  int aborted = 0;
  int completed = 0;
  for (const engine::CheckpointStats& s : jw->job_manager()->history()) {
    if (s.status == engine::CheckpointStats::Status::kFailed) ++aborted;
    if (s.status == engine::CheckpointStats::Status::kCompleted) ++completed;
  }
  const std::multiset<uint64_t> reflected = Reflected(*jw);
  EXPECT_GT(aborted, 0) << "no checkpoint was ever cancelled";
  EXPECT_GT(completed, 0);
  EXPECT_EQ(reflected, ids);
}

INSTANTIATE_TEST_SUITE_P(Modes, OvertakingBarrierTest,
                         ::testing::Values(engine::CheckpointMode::kAligned,
                                           engine::CheckpointMode::kUnaligned),
                         [](const auto& p) {
                           return std::string(engine::CheckpointModeName(p.param));
                         });

}  // namespace
}  // namespace faultline
