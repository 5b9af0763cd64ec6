// When the latest completed checkpoint is unreadable (its blobs corrupted or lost by an injected
// storage fault) and two-phase-commit sinks already committed its output, no engine can recover
// exactly-once. ORACLES.md's policies: `fail` stops the job with a DataLoss status (no
// duplicates, nothing silent); `fallback` restores the newest readable checkpoint and reports
// the breach (records after it are emitted again, none is lost).
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

#include "faults/crash_when.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using testing_support::IsEngineEvent;

// Damages checkpoint 3's keyed-state blobs as they are written.
class DamageCheckpoint3 : public sim::FaultInjector {
 public:
  explicit DamageCheckpoint3(sim::FaultEffect effect) : effect_(std::move(effect)) {}
  sim::FaultEffect Decide(const sim::FaultSite& site) override {
    if (site.point != sim::FaultPoint::kBlobPut) return {};
    const std::string_view target = site.target;
    if (target.find("chk-3/") == std::string_view::npos || !target.ends_with("/keyed")) return {};
    return effect_;
  }

 private:
  sim::FaultEffect effect_;
};

struct Outcome {
  engine::JobStatus status;
  std::string failure;
  bool lost = false;
  bool duplicated = false;
  int64_t fallback_to = -1;  // from the checkpoint-unreadable event
};

Outcome RunWithDamage(engine::UnreadableCheckpointPolicy policy, sim::FaultEffect damage) {
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(500);
  config.checkpoints.retained = 2;
  config.unreadable_checkpoint = policy;
  auto jw =
      sim::JobWorld::Create(testing_support::KeyedJob({.name = "storage"}), config, {}).value();
  const std::multiset<uint64_t> ids = testing_support::FillSource(*jw, 4, 6000);
  DamageCheckpoint3 damage_injector(std::move(damage));
  jw->world().faults().Install(&damage_injector);
  faults::CrashWhen crash(
      jw.get(),
      [](const sim::TraceRecord& r) {
        return IsEngineEvent(r, engine::EngineEvent::kPointerMoved, 3);
      },
      /*crash_job_manager=*/true);
  jw->world().trace().AddObserver(&crash);
  jw->Start();
  Outcome outcome;
  outcome.status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(60));
  jw->world().trace().RemoveObserver(&crash);
  jw->world().faults().Uninstall(&damage_injector);
  if (engine::JobManager* jm = jw->job_manager()) outcome.failure = jm->failure();
  const std::multiset<uint64_t> reflected = testing_support::Reflected(*jw);
  for (uint64_t id : ids) {
    outcome.lost = outcome.lost || reflected.count(id) == 0;
    outcome.duplicated = outcome.duplicated || reflected.count(id) > 1;
  }
  for (const sim::TraceRecord& r : jw->world().trace().records()) {
    if (IsEngineEvent(r, engine::EngineEvent::kCheckpointUnreadable)) {
      outcome.fallback_to = r.args[2];
    }
  }
  return outcome;
}

const sim::FaultEffect kBitRot{.corrupt = true, .fault_name = "bit-rot"};
const sim::FaultEffect kLostWrite{.lose = true, .fault_name = "lost-write"};

TEST(UnreadableCheckpointTest, FailPolicyStopsWithDataLossAndNoDuplicates) {
  for (const sim::FaultEffect& damage : {kBitRot, kLostWrite}) {
    const Outcome o = RunWithDamage(engine::UnreadableCheckpointPolicy::kFail, damage);
    EXPECT_EQ(o.status, engine::JobStatus::kFailed) << damage.fault_name;
    EXPECT_NE(o.failure.find("DATA_LOSS"), std::string::npos) << o.failure;
    EXPECT_NE(o.failure.find("checkpoint 3"), std::string::npos) << o.failure;
    EXPECT_FALSE(o.duplicated) << damage.fault_name;
    EXPECT_EQ(o.fallback_to, 0);
  }
}

TEST(UnreadableCheckpointTest, FallbackPolicyRestoresTheOlderCheckpointAndReportsTheBreach) {
  for (const sim::FaultEffect& damage : {kBitRot, kLostWrite}) {
    const Outcome o = RunWithDamage(engine::UnreadableCheckpointPolicy::kFallback, damage);
    EXPECT_EQ(o.status, engine::JobStatus::kFinished) << damage.fault_name;
    EXPECT_EQ(o.fallback_to, 2) << "the breach is reported, naming the checkpoint used";
    EXPECT_FALSE(o.lost) << damage.fault_name;
  }
}

// A transient error is not data loss: the blob store is unavailable for the first reads of the
// restore (and of the metadata, after a JobManager crash), and the engine simply tries again.
class UnavailableForReads : public sim::FaultInjector {
 public:
  explicit UnavailableForReads(int count) : left_(count) {}
  sim::FaultEffect Decide(const sim::FaultSite& site) override {
    if (site.point != sim::FaultPoint::kBlobGet || left_ == 0) return {};
    --left_;
    return sim::FaultEffect{.error = UnavailableError("503 Slow Down"), .fault_name = "outage"};
  }

 private:
  int left_;
};

TEST(UnreadableCheckpointTest, ATransientReadErrorIsRetriedNotTreatedAsDataLoss) {
  for (bool crash_job_manager : {false, true}) {
    engine::EngineConfig config;
    config.checkpoints.interval = Duration::Millis(500);
    auto jw =
        sim::JobWorld::Create(testing_support::KeyedJob({.name = "transient"}), config, {}).value();
    const std::multiset<uint64_t> ids = testing_support::FillSource(*jw, 4, 6000);
    UnavailableForReads outage(6);
    jw->world().faults().Install(&outage);
    faults::CrashWhen crash(
        jw.get(),
        [crash_job_manager](const sim::TraceRecord& r) {
          // The JobManager after checkpoint 3 completed, or a TaskManager as it acknowledges 3.
          return IsEngineEvent(r,
                               crash_job_manager ? engine::EngineEvent::kPointerMoved
                                                 : engine::EngineEvent::kAckSent,
                               3);
        },
        crash_job_manager);
    jw->world().trace().AddObserver(&crash);
    jw->Start();
    const engine::JobStatus status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(60));
    jw->world().trace().RemoveObserver(&crash);
    jw->world().faults().Uninstall(&outage);
    ASSERT_TRUE(crash.fired());
    EXPECT_EQ(status, engine::JobStatus::kFinished)
        << (jw->job_manager() ? jw->job_manager()->failure() : "");
    bool unreadable = false;
    for (const sim::TraceRecord& r : jw->world().trace().records()) {
      unreadable = unreadable || IsEngineEvent(r, engine::EngineEvent::kCheckpointUnreadable);
    }
    EXPECT_FALSE(unreadable) << "an unavailable store does not make a checkpoint unreadable";
    EXPECT_EQ(testing_support::Reflected(*jw), ids) << "exactly once";
  }
}

// Reads of a checkpoint's metadata fail (unavailable) until `until`.
class MetadataUnavailableUntil : public sim::FaultInjector {
 public:
  MetadataUnavailableUntil(const sim::World* world, Time until) : world_(world), until_(until) {}
  sim::FaultEffect Decide(const sim::FaultSite& site) override {
    if (site.point != sim::FaultPoint::kBlobGet || world_->now() >= until_) return {};
    if (!std::string_view(site.target).ends_with("_metadata")) return {};
    ++failed_;
    return sim::FaultEffect{.error = UnavailableError("503 Service Unavailable"),
                            .fault_name = "metadata-outage"};
  }
  int failed() const { return failed_; }

 private:
  const sim::World* world_;
  Time until_;
  int failed_ = 0;
};

// The soak's LIVE finding: a new JobManager whose metadata reads fail retried them only every
// heartbeat interval (500 ms), so recovery resumed up to half a second after the store did. It
// retries with a short backoff (from connect_retry, doubling, at most 5 x connect_retry).
TEST(UnreadableCheckpointTest, RecoveryResumesSoonAfterTheStoreDoes) {
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(100);
  auto jw =
      sim::JobWorld::Create(testing_support::KeyedJob({.name = "outage"}), config, {}).value();
  const std::multiset<uint64_t> ids = testing_support::FillSource(*jw, 4, 20000);
  const Time store_back = Time::Zero() + Duration::Millis(2300);
  MetadataUnavailableUntil outage(&jw->world(), store_back);
  jw->world().faults().Install(&outage);
  faults::CrashWhen crash(
      jw.get(),
      [](const sim::TraceRecord& r) {
        return IsEngineEvent(r, engine::EngineEvent::kPointerMoved, 3);
      },
      /*crash_job_manager=*/true);
  jw->world().trace().AddObserver(&crash);
  jw->Start();
  const engine::JobStatus status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(60));
  jw->world().trace().RemoveObserver(&crash);
  jw->world().faults().Uninstall(&outage);
  ASSERT_TRUE(crash.fired());
  ASSERT_GT(outage.failed(), 1) << "the new JobManager's metadata reads met the outage";
  EXPECT_EQ(status, engine::JobStatus::kFinished);
  std::optional<Time> takeover;
  for (const sim::TraceRecord& r : jw->world().trace().records()) {
    if (!takeover && r.time >= store_back && IsEngineEvent(r, engine::EngineEvent::kDeployed)) {
      takeover = r.time;
    }
  }
  ASSERT_TRUE(takeover.has_value()) << "the new JobManager deployed the job";
  EXPECT_LE(*takeover - store_back, config.connect_retry * 5 + Duration::Millis(20))
      << "deployed " << (*takeover - store_back).millis() << " ms after the store came back";
  EXPECT_EQ(testing_support::Reflected(*jw), ids) << "exactly once";
}

}  // namespace
}  // namespace faultline
