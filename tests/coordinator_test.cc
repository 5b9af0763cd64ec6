// The checkpoint coordinator's settings, each on a real run: the timeout aborts a checkpoint that
// takes too long; max concurrent bounds the checkpoints in flight; min pause spaces a completion
// and the next trigger; a completed checkpoint subsumes older pending ones; failed checkpoints
// beyond the tolerable number restart the job; cleanup keeps exactly the retained checkpoints,
// and an aborted checkpoint's blobs are deleted. Every run also keeps exactly-once output.
#include "engine/checkpoint/coordinator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/exec/events.h"
#include "engine/exec/job_manager.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using engine::EngineEvent;

// Delays or fails the blob puts of the checkpoints named.
class SlowOrFailUploads : public sim::FaultInjector {
 public:
  SlowOrFailUploads(std::set<uint64_t> checkpoints, sim::FaultEffect effect)
      : checkpoints_(std::move(checkpoints)), effect_(std::move(effect)) {}
  sim::FaultEffect Decide(const sim::FaultSite& site) override {
    if (site.point != sim::FaultPoint::kBlobPut) return {};
    for (uint64_t id : checkpoints_) {
      const std::string prefix = "checkpoints/chk-" + std::to_string(id) + "/";
      if (std::string_view(site.target).starts_with(prefix) &&
          !std::string_view(site.target).ends_with("_metadata")) {
        return effect_;
      }
    }
    return {};
  }

 private:
  std::set<uint64_t> checkpoints_;
  sim::FaultEffect effect_;
};

struct Event {
  EngineEvent kind;
  uint64_t checkpoint;
  Time at;
  std::string detail;
  bool final = false;  // checkpoint-triggered: the final checkpoint after end of input
};

class Events : public sim::TraceObserver {
 public:
  void OnRecord(const sim::TraceRecord& r) override {
    if (r.kind != sim::TraceKind::kEngine || r.node != 0) return;  // the JobManager's
    list.push_back(Event{static_cast<EngineEvent>(r.args[0]), static_cast<uint64_t>(r.args[1]),
                         r.time, r.detail,
                         r.args[0] == engine::Ev(EngineEvent::kTriggered) && r.args[2] != 0});
  }
  std::vector<Event> Of(EngineEvent kind) const {
    std::vector<Event> out;
    for (const Event& e : list) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
  std::vector<Event> list;
};

struct Run {
  engine::JobStatus status;
  Events events;
  bool exactly_once = false;
  uint32_t restarts = 0;
  std::vector<std::string> metadata_blobs;  // in the blob store at the end
  std::set<uint64_t> with_blobs;            // checkpoints with any blob in the store at the end
  std::vector<engine::CheckpointStats> history;  // the coordinator's, at the end
  size_t discarded = 0;  // aborted checkpoints the coordinator still awaits answers for
};

// "checkpoints/chk-12/..." -> 12.
uint64_t CheckpointOfBlob(std::string_view name) {
  constexpr std::string_view kPrefix = "checkpoints/chk-";
  if (!name.starts_with(kPrefix)) return 0;
  name.remove_prefix(kPrefix.size());
  return std::stoull(std::string(name.substr(0, name.find('/'))));
}

std::unique_ptr<Run> RunWith(const engine::EngineConfig& config,
                             std::unique_ptr<sim::FaultInjector> fault = nullptr,
                             uint32_t per_partition = 6000, sim::TraceObserver* also = nullptr) {
  auto run = std::make_unique<Run>();
  auto jw =
      sim::JobWorld::Create(testing_support::KeyedJob({.name = "coordinator"}), config, {}).value();
  const std::multiset<uint64_t> ids = testing_support::FillSource(*jw, 4, per_partition);
  jw->world().trace().AddObserver(&run->events);
  if (also != nullptr) jw->world().trace().AddObserver(also);
  if (fault) jw->world().faults().Install(fault.get());
  jw->Start();
  run->status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(120));
  if (also != nullptr) jw->world().trace().RemoveObserver(also);
  jw->world().trace().RemoveObserver(&run->events);
  if (fault) jw->world().faults().Uninstall(fault.get());
  run->exactly_once = testing_support::Reflected(*jw) == ids;
  if (const engine::JobManager* jm = jw->job_manager()) {
    const engine::CheckpointCoordinator& coordinator = jm->coordinator();
    run->history.assign(coordinator.history().begin(), coordinator.history().end());
    run->discarded = coordinator.discarded();
  }
  for (const Event& e : run->events.list) {
    if (e.kind == EngineEvent::kJobRestart) ++run->restarts;
  }
  for (const auto& [name, bytes] : jw->world().blob_store().objects()) {
    if (name.ends_with("/_metadata")) run->metadata_blobs.push_back(name);
    run->with_blobs.insert(CheckpointOfBlob(name));
  }
  return run;
}

engine::EngineConfig Config() {
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(200);
  return config;
}

TEST(CoordinatorTest, TheTimeoutAbortsACheckpointThatTakesTooLong) {
  engine::EngineConfig config = Config();
  config.checkpoints.timeout = Duration::Millis(300);
  config.checkpoints.tolerable_failures = 10;
  auto run = RunWith(
      config, std::make_unique<SlowOrFailUploads>(
                  std::set<uint64_t>{3}, sim::FaultEffect{.extra_delay = Duration::Seconds(1)}));
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  bool expired = false;
  for (const Event& e : run->events.Of(EngineEvent::kCheckpointAborted)) {
    if (e.checkpoint == 3) {
      expired = e.detail.find("expired") != std::string::npos;
      // Aborted at trigger + timeout.
      const auto triggered = run->events.Of(EngineEvent::kTriggered);
      auto it = std::find_if(triggered.begin(), triggered.end(),
                             [](const Event& t) { return t.checkpoint == 3; });
      ASSERT_NE(it, triggered.end());
      EXPECT_EQ(e.at - it->at, Duration::Millis(300));
    }
  }
  EXPECT_TRUE(expired) << "checkpoint 3 should expire";
  for (const Event& e : run->events.Of(EngineEvent::kPointerMoved)) EXPECT_NE(e.checkpoint, 3u);
  // Its state is discarded, including what its tasks acknowledged after it expired.
  EXPECT_FALSE(run->with_blobs.contains(3)) << "blobs of the expired checkpoint are left";
  EXPECT_EQ(run->discarded, 0u) << "every task answered the expired checkpoint: nothing awaited";
  EXPECT_EQ(run->restarts, 0u) << "within the tolerable failures";
  EXPECT_TRUE(run->exactly_once);

  // Expiry counts as a failure: with none tolerable, the job restarts.
  config.checkpoints.tolerable_failures = 0;
  auto strict = RunWith(
      config, std::make_unique<SlowOrFailUploads>(
                  std::set<uint64_t>{3}, sim::FaultEffect{.extra_delay = Duration::Seconds(1)}));
  ASSERT_EQ(strict->status, engine::JobStatus::kFinished);
  EXPECT_EQ(strict->restarts, 1u);
  EXPECT_TRUE(strict->exactly_once);
}

// The number of checkpoints triggered but not yet completed or aborted, at each trigger.
size_t MaxInFlight(const Events& events) {
  std::set<uint64_t> in_flight;
  size_t most = 0;
  for (const Event& e : events.list) {
    if (e.kind == EngineEvent::kTriggered) {
      in_flight.insert(e.checkpoint);
      most = std::max(most, in_flight.size());
    } else if (e.kind == EngineEvent::kPointerMoved || e.kind == EngineEvent::kCheckpointAborted) {
      in_flight.erase(e.checkpoint);
    }
  }
  return most;
}

TEST(CoordinatorTest, MaxConcurrentBoundsTheCheckpointsInFlight) {
  for (uint32_t max : {1u, 2u, 3u}) {
    engine::EngineConfig config = Config();
    config.checkpoints.interval = Duration::Millis(100);
    config.checkpoints.max_concurrent = max;
    // Every upload takes 250 ms longer: checkpoints pile up against the bound.
    std::set<uint64_t> all;
    for (uint64_t id = 1; id < 200; ++id) all.insert(id);
    auto run = RunWith(config, std::make_unique<SlowOrFailUploads>(
                                   all, sim::FaultEffect{.extra_delay = Duration::Millis(250)}));
    ASSERT_EQ(run->status, engine::JobStatus::kFinished) << "max " << max;
    EXPECT_EQ(MaxInFlight(run->events), max) << "the bound is reached and never passed";
    EXPECT_TRUE(run->exactly_once);
  }
}

TEST(CoordinatorTest, MinPauseSpacesACompletionAndTheNextTrigger) {
  engine::EngineConfig config = Config();
  config.checkpoints.min_pause = Duration::Millis(700);
  auto run = RunWith(config, nullptr, /*per_partition=*/12000);
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  std::optional<Time> last_completion;
  int checked = 0;
  for (const Event& e : run->events.list) {
    if (e.kind == EngineEvent::kPointerMoved) last_completion = e.at;
    // The final checkpoint after end of input is not periodic: min pause does not hold it.
    if (e.kind == EngineEvent::kTriggered && last_completion && !e.final) {
      EXPECT_GE(e.at - *last_completion, Duration::Millis(700)) << "checkpoint " << e.checkpoint;
      ++checked;
    }
  }
  EXPECT_GE(checked, 2);
  EXPECT_TRUE(run->exactly_once);
}

// The JobManager's requests to take a checkpoint id (the HA counter's compare-and-set): the
// moment a trigger request fires, before the id is durable and the checkpoint-triggered event.
class CounterRequests : public sim::TraceObserver {
 public:
  void OnRecord(const sim::TraceRecord& r) override {
    if (r.kind == sim::TraceKind::kServiceRequest && r.node == 0 &&
        r.args[0] == static_cast<int64_t>(sim::Service::kHaStore) &&
        r.detail.ends_with("/checkpoint-counter") && r.args[3] > 0) {  // a write, not the read
      times.push_back(r.time);
    }
  }
  // The request of the checkpoint triggered at `triggered`: the last one before it.
  Time Before(Time triggered) const {
    Time last;
    for (Time t : times) {
      if (t <= triggered) last = t;
    }
    return last;
  }
  std::vector<Time> times;
};

// When checkpoint `id` ended (completed or aborted); nullopt if it did not.
std::optional<Time> EndOf(const Events& events, uint64_t id) {
  for (const Event& e : events.list) {
    if ((e.kind == EngineEvent::kPointerMoved || e.kind == EngineEvent::kCheckpointAborted) &&
        e.checkpoint == id) {
      return e.at;
    }
  }
  return std::nullopt;
}

// As Flink's CheckpointRequestDecider: a periodic trigger blocked by max concurrent is queued
// and fires the moment the blocking checkpoint ends (completed or expired), not an interval
// later.
TEST(CoordinatorTest, ATriggerBlockedByMaxConcurrentFiresWhenTheBlockingCheckpointEnds) {
  for (const bool expires : {false, true}) {
    engine::EngineConfig config = Config();
    config.checkpoints.max_concurrent = 1;
    config.checkpoints.tolerable_failures = 10;
    if (expires) config.checkpoints.timeout = Duration::Millis(500);
    CounterRequests requests;
    // Checkpoint 3 takes 1 s more than the others: the interval passes several times.
    auto run =
        RunWith(config,
                std::make_unique<SlowOrFailUploads>(
                    std::set<uint64_t>{3}, sim::FaultEffect{.extra_delay = Duration::Seconds(1)}),
                6000, &requests);
    ASSERT_EQ(run->status, engine::JobStatus::kFinished);
    const std::optional<Time> end = EndOf(run->events, 3);
    ASSERT_TRUE(end.has_value());
    bool aborted = false;
    for (const Event& e : run->events.Of(EngineEvent::kCheckpointAborted)) {
      aborted |= e.checkpoint == 3;
    }
    EXPECT_EQ(aborted, expires);
    const auto triggered = run->events.Of(EngineEvent::kTriggered);
    auto next = std::find_if(triggered.begin(), triggered.end(),
                             [](const Event& t) { return t.checkpoint == 4; });
    ASSERT_NE(next, triggered.end());
    ASSERT_FALSE(next->final);
    const auto three = std::find_if(triggered.begin(), triggered.end(),
                                    [](const Event& t) { return t.checkpoint == 3; });
    ASSERT_NE(three, triggered.end());
    EXPECT_GT(*end - three->at, Duration::Millis(400)) << "the interval passed while 3 ran";
    // The queued request fired right when 3 ended.
    EXPECT_EQ(requests.Before(next->at), *end) << "expires " << expires;
    EXPECT_EQ(MaxInFlight(run->events), 1u);
  }
}

// A periodic trigger blocked by the min pause fires the moment the pause elapses.
TEST(CoordinatorTest, ATriggerBlockedByTheMinPauseFiresWhenThePauseElapses) {
  engine::EngineConfig config = Config();  // interval 200 ms
  config.checkpoints.min_pause = Duration::Millis(700);
  CounterRequests requests;
  auto run = RunWith(config, nullptr, /*per_partition=*/12000, &requests);
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const Events& events = run->events;
  std::optional<Time> last_completion;
  int checked = 0;
  for (const Event& e : events.list) {
    if (e.kind == EngineEvent::kPointerMoved) last_completion = e.at;
    if (e.kind == EngineEvent::kTriggered && last_completion && !e.final) {
      // The interval (200 ms) always ends within the pause (700 ms): every trigger after a
      // completion was blocked, and fired exactly when the pause elapsed.
      EXPECT_EQ(requests.Before(e.at), *last_completion + Duration::Millis(700))
          << "checkpoint " << e.checkpoint;
      ++checked;
    }
  }
  EXPECT_GE(checked, 2);
}

TEST(CoordinatorTest, ACompletedCheckpointSubsumesOlderPendingOnes) {
  engine::EngineConfig config = Config();
  config.checkpoints.max_concurrent = 2;
  auto run = RunWith(
      config, std::make_unique<SlowOrFailUploads>(
                  std::set<uint64_t>{3}, sim::FaultEffect{.extra_delay = Duration::Millis(600)}));
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  bool subsumed = false;
  for (const Event& e : run->events.Of(EngineEvent::kCheckpointAborted)) {
    if (e.checkpoint == 3)
      subsumed = e.detail.find("subsumed by checkpoint 4") != std::string::npos;
  }
  EXPECT_TRUE(subsumed);
  EXPECT_TRUE(run->exactly_once) << "3's transactions are committed with 4";
  EXPECT_FALSE(run->with_blobs.contains(3)) << "blobs of the subsumed checkpoint are left";
}

TEST(CoordinatorTest, FailedCheckpointsBeyondTheTolerableNumberRestartTheJob) {
  const sim::FaultEffect fail{.error = UnavailableError("503"), .fault_name = "blob-write-error"};
  for (uint32_t tolerable : {0u, 1u, 5u}) {
    engine::EngineConfig config = Config();
    config.checkpoints.tolerable_failures = tolerable;
    // Checkpoints 3 and 4 fail in a row.
    auto run = RunWith(config, std::make_unique<SlowOrFailUploads>(std::set<uint64_t>{3, 4}, fail));
    ASSERT_EQ(run->status, engine::JobStatus::kFinished);
    uint32_t aborted = 0;
    for (const Event& e : run->events.Of(EngineEvent::kCheckpointAborted)) {
      aborted += e.checkpoint == 3 || e.checkpoint == 4 ? 1 : 0;
    }
    EXPECT_GE(aborted, 1u);
    // A real decline (the state upload failed) names its reason and counts.
    for (const Event& e : run->events.Of(EngineEvent::kCheckpointAborted)) {
      if (e.checkpoint == 3 && e.detail.starts_with("declined")) {
        EXPECT_NE(e.detail.find("(upload-failed)"), std::string::npos) << e.detail;
      }
    }
    EXPECT_FALSE(run->with_blobs.contains(3) || run->with_blobs.contains(4))
        << "blobs of failed checkpoints are left, tolerable " << tolerable;
    if (tolerable >= 2) {
      EXPECT_EQ(run->restarts, 0u) << "tolerable " << tolerable;
    } else {
      EXPECT_GE(run->restarts, 1u) << "tolerable " << tolerable;
    }
    EXPECT_TRUE(run->exactly_once) << "tolerable " << tolerable;
  }
}

TEST(CoordinatorTest, CleanupKeepsExactlyTheRetainedCheckpoints) {
  for (uint32_t retained : {1u, 3u}) {
    engine::EngineConfig config = Config();
    config.checkpoints.retained = retained;
    auto run = RunWith(config);
    ASSERT_EQ(run->status, engine::JobStatus::kFinished);
    const auto completed = run->events.Of(EngineEvent::kPointerMoved);
    ASSERT_GT(completed.size(), retained);
    std::vector<std::string> expected;
    for (size_t i = completed.size() - retained; i < completed.size(); ++i) {
      expected.push_back("checkpoints/chk-" + std::to_string(completed[i].checkpoint) +
                         "/_metadata");
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(run->metadata_blobs, expected) << "retained " << retained;
  }
}

TEST(CoordinatorTest, TheHistoryKeepsTheLatestFinishedCheckpoints) {
  engine::EngineConfig config = Config();
  config.checkpoints.history = 3;
  auto run = RunWith(config);
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const std::vector<Event> triggered = run->events.Of(EngineEvent::kTriggered);
  ASSERT_GT(triggered.size(), 3u);
  // The job is done: nothing in progress, the last three triggered are kept, in order.
  ASSERT_EQ(run->history.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(run->history[i].id, triggered[triggered.size() - 3 + i].checkpoint);
    EXPECT_EQ(run->history[i].status, engine::CheckpointStats::Status::kCompleted);
  }
  EXPECT_TRUE(run->history.back().final);
}

}  // namespace
}  // namespace faultline
