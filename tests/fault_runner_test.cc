// Each fault kind's effect on a bare simulated world (three nodes without processes: node 0
// plays the JobManager, 1 and 2 the TaskManagers), and its tagged records in the trace. Plans
// are written as scenario text (converted by scenarios/fault_plan_proto.h), hence here in tests/.
#include "faults/fault_runner.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "scenarios/fault_plan_proto.h"
#include "tests/support/plan_text.h"

namespace faultline::faults {
namespace {

using runtime::Bytes;

// The `faults` and `nemesis` of scenario text, as a plan.
FaultPlan Plan(const std::string& text) {
  return testing_support::PlanFromText(text);
}

Bytes B(std::string_view s) {
  return {s.begin(), s.end()};
}

struct Receiver : runtime::ChannelListener {
  sim::World* world;
  std::vector<Time> arrivals;
  explicit Receiver(sim::World* w) : world(w) {}
  void OnAccepted(runtime::ChannelId, runtime::Endpoint) override {}
  void OnReceive(runtime::ChannelId channel, runtime::Buffer&) override {
    arrivals.push_back(world->now());
    world->network().ReturnCredit(1, channel);
  }
  void OnChannelFailed(runtime::ChannelId, const Status&) override {}
};

struct Sender : runtime::ChannelListener {
  void OnWritable(runtime::ChannelId) override {}
  void OnChannelFailed(runtime::ChannelId, const Status&) override {}
};

class FaultRunnerTest : public ::testing::Test {
 protected:
  FaultRunnerTest() : world_(sim::WorldOptions{.seed = 9}) {
    for (const char* name : {"jobmanager", "taskmanager-1", "taskmanager-2"}) {
      world_.Start(world_.AddNode(name, nullptr));
    }
  }

  void Run(const std::string& plan) {
    FaultTargets targets;
    targets.job_manager = 0;
    targets.task_managers = {1, 2};
    targets.task_names = {"work#0"};
    targets.resolve_subtask = [](std::string_view name) -> std::optional<uint32_t> {
      if (name == "work#0") return 0;
      return std::nullopt;
    };
    targets.fail_task = [this](uint32_t task, const Status& why) {
      failed_tasks_.emplace_back(task, why);
      return true;
    };
    runner_ = FaultRunner::Create(world_, std::move(targets), Plan(plan)).value();
    runner_->Install();
  }
  void RunUntil(Duration t) { world_.RunUntil(Time::Zero() + t); }

  // The fault's kFaultFired record, and whether some operation was hit under its name.
  bool FiredRecorded(std::string_view name) const {
    for (const sim::TraceRecord& r : world_.trace().records()) {
      if (r.kind == sim::TraceKind::kFaultFired && r.detail == name) return true;
    }
    return false;
  }
  int Injected(std::string_view name) const {
    int n = 0;
    for (const sim::TraceRecord& r : world_.trace().records()) {
      if (r.kind == sim::TraceKind::kFaultInjected && r.detail.rfind(name, 0) == 0) ++n;
    }
    return n;
  }

  Status Put(const std::string& name, Bytes data) {
    std::optional<Status> out;
    world_.blob_store().Put(1, name, std::move(data), [&](Status s) { out = s; });
    world_.RunFor(Duration::Seconds(2));
    return out.value_or(InternalError("no reply"));
  }
  Result<Bytes> Get(const std::string& name) {
    std::optional<Result<Bytes>> out;
    world_.blob_store().Get(1, name, [&](Result<Bytes> r) { out = std::move(r); });
    world_.RunFor(Duration::Seconds(2));
    return out.value_or(InternalError("no reply"));
  }
  // Sends one small buffer from node 0 to node 1 at each of `times`, over one channel.
  Receiver& Traffic(const std::vector<Duration>& times, size_t bytes = 64) {
    receiver_ = std::make_unique<Receiver>(&world_);
    EXPECT_TRUE(world_.network().Listen(1, 7, receiver_.get()).ok());
    channel_ = world_.network().Connect(0, runtime::Endpoint{1, 7}, {.credits = 64}, &sender_);
    for (Duration t : times) {
      world_.loop().Schedule(Time::Zero() + t, [this, bytes] {
        runtime::Buffer b(bytes, 1);
        EXPECT_TRUE(world_.network().TrySend(0, channel_, b));
      });
    }
    return *receiver_;
  }

  sim::World world_;
  std::unique_ptr<FaultRunner> runner_;
  std::vector<std::pair<uint32_t, Status>> failed_tasks_;
  std::unique_ptr<Receiver> receiver_;
  Sender sender_;
  runtime::ChannelId channel_ = 0;
};

// --- processes --------------------------------------------------------------------------------

TEST_F(FaultRunnerTest, CrashTaskManagerThenRestart) {
  Run(R"(faults { name: "tm1 down" trigger { at: "1s" }
                  crash_task_manager { task_manager: 1 restart_after: "500ms" } })");
  RunUntil(Duration::Millis(1200));
  EXPECT_FALSE(world_.IsUp(1));
  EXPECT_TRUE(FiredRecorded("tm1 down"));
  bool tagged_crash = false;
  for (const auto& r : world_.trace().records()) {
    tagged_crash |= r.kind == sim::TraceKind::kNodeCrash && r.node == 1 &&
                    r.detail == "injected fault tm1 down";
  }
  EXPECT_TRUE(tagged_crash);
  RunUntil(Duration::Millis(1600));
  EXPECT_TRUE(world_.IsUp(1));
  EXPECT_EQ(world_.Incarnation(1), 1u);
  const FaultReport report = runner_->Report();
  ASSERT_EQ(report.entries.size(), 1u);
  EXPECT_TRUE(report.entries[0].fired && report.entries[0].effective);
  EXPECT_EQ(report.entries[0].fired_at, Time::Zero() + Duration::Seconds(1));
  EXPECT_EQ(report.fired[static_cast<size_t>(FaultKind::kCrashTaskManager)], 1u);
  EXPECT_EQ(report.quiet_from, Time::Zero() + Duration::Millis(1500));
  EXPECT_TRUE(report.conclusive());
  EXPECT_TRUE(report.permanent.empty());
}

TEST_F(FaultRunnerTest, CrashJobManagerNeverRestartsIsPermanent) {
  Run(R"(faults { name: "jm" trigger { at: "2s" } crash_job_manager { never_restart: true } })");
  RunUntil(Duration::Seconds(10));
  EXPECT_FALSE(world_.IsUp(0));
  EXPECT_TRUE(FiredRecorded("jm"));
  EXPECT_EQ(runner_->Report().permanent, std::vector<std::string>{"jm"});
}

TEST_F(FaultRunnerTest, CrashOfANodeThatIsDownHasNoEffect) {
  Run(R"(faults { name: "a" trigger { at: "1s" } crash_task_manager { task_manager: 2 never_restart: true } }
         faults { name: "b" trigger { at: "2s" } crash_task_manager { task_manager: 2 restart_after: "1s" } })");
  RunUntil(Duration::Seconds(5));
  const FaultReport report = runner_->Report();
  EXPECT_TRUE(report.entries[0].effective);
  EXPECT_TRUE(report.entries[1].fired);
  EXPECT_FALSE(report.entries[1].effective);
  EXPECT_EQ(report.entries[1].note, "node 2 was down");
  EXPECT_EQ(report.without_effect.size(), 1u);
  EXPECT_FALSE(world_.IsUp(2));
}

TEST_F(FaultRunnerTest, DiskUnsyncedLossCrashesAndDropsUnsyncedBytes) {
  sim::SimDisk& disk = world_.disk(2);
  ASSERT_TRUE(disk.Create("log").ok());
  ASSERT_TRUE(disk.Append("log", B("synced")).ok());
  ASSERT_TRUE(disk.Sync("log").ok());
  ASSERT_TRUE(disk.Append("log", B("-unsynced")).ok());
  Run(R"(faults { name: "loss" trigger { at: "1s" } disk_unsynced_loss { node: 2 restart_after: "1s" } })");
  RunUntil(Duration::Seconds(3));
  EXPECT_TRUE(world_.IsUp(2));
  EXPECT_EQ(world_.Incarnation(2), 1u);
  EXPECT_EQ(disk.Size("log").value(), 6u);
  EXPECT_EQ(disk.stats().bytes_lost_unsynced, 9u);
  EXPECT_TRUE(FiredRecorded("loss"));
}

TEST_F(FaultRunnerTest, FailTaskFailsTheResolvedTask) {
  Run(R"(faults { name: "boom" trigger { at: "1s" } fail_task { subtask: "work#0" } })");
  RunUntil(Duration::Seconds(2));
  ASSERT_EQ(failed_tasks_.size(), 1u);
  EXPECT_EQ(failed_tasks_[0].first, 0u);
  EXPECT_EQ(failed_tasks_[0].second.message(), "injected fault boom: the task failed");
  EXPECT_TRUE(FiredRecorded("boom"));
}

TEST_F(FaultRunnerTest, PauseStallsTheNodeForItsDuration) {
  Run(R"(faults { name: "gc" trigger { at: "1s" } pause { node: 1 duration: "500ms" } })");
  int ticks = 0;
  for (int i = 0; i < 20; ++i) {
    world_.loop().Schedule(
        Time::Zero() + Duration::Millis(100 * i), [&] { ++ticks; }, world_.OwnerOf(1));
  }
  RunUntil(Duration::Millis(1200));
  EXPECT_TRUE(world_.IsPaused(1));
  EXPECT_EQ(ticks, 10);  // 0..900 ms; from 1000 ms on (the pause came first) they are held
  RunUntil(Duration::Millis(1600));
  EXPECT_FALSE(world_.IsPaused(1));
  EXPECT_EQ(ticks, 17);  // the held ones ran at the resume, 1500 and 1600 on time
  EXPECT_TRUE(FiredRecorded("gc"));
}

// --- network ----------------------------------------------------------------------------------

TEST_F(FaultRunnerTest, PartitionFailsCrossingTrafficUntilHealed) {
  Run(R"(faults { name: "split" trigger { at: "1s" } partition { side_a: [0] side_b: [1, 2] heal_after: "2s" } })");
  RunUntil(Duration::Millis(1500));
  EXPECT_FALSE(world_.network().Reachable(0, 1));
  EXPECT_TRUE(world_.network().Reachable(1, 2));
  RunUntil(Duration::Millis(3500));
  EXPECT_TRUE(world_.network().Reachable(0, 1));
  EXPECT_TRUE(FiredRecorded("split"));
}

TEST_F(FaultRunnerTest, LatencySpikeDelaysMessagesOnTheLinkDuringItsWindow) {
  Run(R"(faults { name: "spike" trigger { at: "1s" }
                  latency_spike { link { a: 0 b: 1 } extra_latency: "200ms" duration: "1s" } })");
  Receiver& rx = Traffic({Duration::Millis(500), Duration::Millis(1500), Duration::Millis(2500)});
  RunUntil(Duration::Seconds(4));
  ASSERT_EQ(rx.arrivals.size(), 3u);
  EXPECT_LT(rx.arrivals[0] - (Time::Zero() + Duration::Millis(500)), Duration::Millis(10));
  EXPECT_GE(rx.arrivals[1] - (Time::Zero() + Duration::Millis(1500)), Duration::Millis(200));
  EXPECT_LT(rx.arrivals[2] - (Time::Zero() + Duration::Millis(2500)), Duration::Millis(10));
  EXPECT_EQ(Injected("spike"), 1);
}

TEST_F(FaultRunnerTest, ClogHoldsMessagesThenReleasesThemInOrder) {
  Run(R"(faults { name: "clog" trigger { at: "1s" } clog { link { a: 1 b: 0 } duration: "1s" } })");
  Receiver& rx = Traffic({Duration::Millis(1100), Duration::Millis(1200), Duration::Millis(1300),
                          Duration::Millis(2500)});
  RunUntil(Duration::Millis(1990));
  EXPECT_TRUE(rx.arrivals.empty());  // the link stalled
  RunUntil(Duration::Seconds(3));
  ASSERT_EQ(rx.arrivals.size(), 4u);
  EXPECT_GE(rx.arrivals[0], Time::Zero() + Duration::Seconds(2));
  EXPECT_LE(rx.arrivals[0], rx.arrivals[1]);
  EXPECT_LE(rx.arrivals[1], rx.arrivals[2]);
  EXPECT_LT(rx.arrivals[2], Time::Zero() + Duration::Millis(2100));
  EXPECT_EQ(Injected("clog"), 3);
}

TEST_F(FaultRunnerTest, SlowBandwidthSlowsTheLinkThenRestoresIt) {
  Run(R"(faults { name: "slow" trigger { at: "1s" }
                  slow_bandwidth { link { a: 0 b: 1 } bandwidth_bytes_per_second: 100000 duration: "1s" } })");
  // 50 KB buffers: 0.5 s each at 100 KB/s.
  Receiver& rx =
      Traffic({Duration::Millis(500), Duration::Millis(1500), Duration::Millis(2500)}, 50'000);
  RunUntil(Duration::Millis(1500));
  EXPECT_EQ(world_.network().Link(0, 1).bandwidth_bytes_per_second, 100'000);
  RunUntil(Duration::Seconds(4));
  EXPECT_EQ(world_.network().Link(0, 1).bandwidth_bytes_per_second, 1'250'000'000);
  ASSERT_EQ(rx.arrivals.size(), 3u);
  EXPECT_LT(rx.arrivals[0] - (Time::Zero() + Duration::Millis(500)), Duration::Millis(10));
  EXPECT_GE(rx.arrivals[1] - (Time::Zero() + Duration::Millis(1500)), Duration::Millis(500));
  EXPECT_LT(rx.arrivals[2] - (Time::Zero() + Duration::Millis(2500)), Duration::Millis(10));
  EXPECT_TRUE(FiredRecorded("slow"));
}

// --- blob store -------------------------------------------------------------------------------

TEST_F(FaultRunnerTest, BlobWriteAndReadErrorsFailTheFirstMatchingOperations) {
  Run(R"(faults { name: "w" trigger { at: "0" } blob_write_error { scope { target_prefix: "cp/" count: 2 } } }
         faults { name: "r" trigger { at: "0" } blob_read_error { scope { } } })");
  RunUntil(Duration::Millis(1));
  EXPECT_TRUE(Put("other", B("x")).ok());
  const Status first = Put("cp/1", B("x"));
  EXPECT_EQ(first.code(), StatusCode::kInternal);
  EXPECT_EQ(first.message().substr(0, 17), "injected fault w:");
  EXPECT_FALSE(Put("cp/1", B("x")).ok());
  EXPECT_TRUE(Put("cp/1", B("x")).ok());  // the count is spent
  EXPECT_FALSE(Get("cp/1").ok());
  EXPECT_TRUE(Get("cp/1").ok());
  EXPECT_EQ(Injected("w"), 2);
  EXPECT_EQ(Injected("r"), 1);
  const FaultReport report = runner_->Report();
  EXPECT_EQ(report.entries[0].injections, 2u);
  EXPECT_EQ(report.injections[static_cast<size_t>(FaultKind::kBlobWriteError)], 2u);
}

TEST_F(FaultRunnerTest, BlobLatencyDelaysOperations) {
  Run(R"(faults { name: "lat" trigger { at: "0" } blob_latency { scope { duration: "10s" } extra_latency: "300ms" } })");
  RunUntil(Duration::Millis(1));
  std::optional<Time> done;
  const Time start = world_.now();
  world_.blob_store().Put(1, "a", B("x"), [&](Status) { done = world_.now(); });
  world_.RunFor(Duration::Seconds(2));
  ASSERT_TRUE(done.has_value());
  EXPECT_GE(*done - start, Duration::Millis(300));
  EXPECT_EQ(Injected("lat"), 1);
}

TEST_F(FaultRunnerTest, BlobOutageAnswersUnavailableDuringItsWindow) {
  Run(R"(faults { name: "out" trigger { at: "1s" } blob_outage { duration: "3s" } })");
  RunUntil(Duration::Millis(1500));
  const Status during = Put("a", B("x"));
  EXPECT_EQ(during.code(), StatusCode::kUnavailable);
  RunUntil(Duration::Seconds(5));
  EXPECT_TRUE(Put("a", B("x")).ok());
  EXPECT_EQ(runner_->Report().quiet_from, Time::Zero() + Duration::Seconds(4));
}

TEST_F(FaultRunnerTest, BlobThrottleSlowsDownAFractionOfPutsAndGetsDuringItsWindow) {
  Run(R"(faults { name: "slow" trigger { at: "5s" } blob_throttle { rate: 0.5 duration: "1000s" } })");
  ASSERT_TRUE(Put("g", B("y")).ok());  // before the window
  RunUntil(Duration::Millis(5500));
  int throttled = 0;
  for (int i = 0; i < 100; ++i) {
    const Status put = Put("p" + std::to_string(i), B("x"));
    if (!put.ok()) {
      ++throttled;
      EXPECT_EQ(put.code(), StatusCode::kResourceExhausted);
      EXPECT_NE(put.message().find("SlowDown: please reduce your request rate"),
                std::string_view::npos)
          << put.message();
    }
    const Result<Bytes> get = Get("g");
    if (!get.ok()) {
      ++throttled;
      EXPECT_EQ(get.status().code(), StatusCode::kResourceExhausted);
    }
  }
  // 200 operations at rate 0.5 (a binomial: 100 +- 7).
  EXPECT_GT(throttled, 70);
  EXPECT_LT(throttled, 130);
  EXPECT_EQ(Injected("slow"), throttled);
  EXPECT_EQ(runner_->Report().entries[0].injections, static_cast<uint64_t>(throttled));
  // Deletes and listings are not throttled.
  std::optional<Status> deleted;
  world_.blob_store().Delete(1, "p1", [&](Status s) { deleted = s; });
  world_.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(deleted.value_or(InternalError("no reply")).ok());
  EXPECT_EQ(Injected("slow"), throttled);
  // After the window nothing is throttled.
  RunUntil(Duration::Seconds(1006));
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(Put("after", B("x")).ok());
}

TEST_F(FaultRunnerTest, TornObjectIsAStrictPrefix) {
  Run(R"(faults { name: "torn" trigger { at: "0" } blob_torn_object { scope { } } })");
  RunUntil(Duration::Millis(1));
  EXPECT_TRUE(Put("cp/state", B("0123456789")).ok());
  const Bytes* stored = world_.blob_store().Peek("cp/state");
  ASSERT_NE(stored, nullptr);
  EXPECT_LT(stored->size(), 10u);
  EXPECT_EQ(Injected("torn"), 1);
}

TEST_F(FaultRunnerTest, CorruptionFlipsABitOfTheStoredObjectSilently) {
  Run(R"(faults { name: "rot" trigger { at: "0" } blob_corruption { scope { } bytes_from_end: 0 } })");
  RunUntil(Duration::Millis(1));
  EXPECT_TRUE(Put("cp/state", B("0123456789")).ok());
  const Bytes* stored = world_.blob_store().Peek("cp/state");
  ASSERT_NE(stored, nullptr);
  Bytes expected = B("0123456789");
  expected.back() ^= 0x01;
  EXPECT_EQ(*stored, expected);
  EXPECT_EQ(Injected("rot"), 1);
}

TEST_F(FaultRunnerTest, LostWriteIsAcknowledgedButNeverVisible) {
  Run(R"(faults { name: "lost" trigger { at: "0" } blob_lost_write { scope { } } })");
  RunUntil(Duration::Millis(1));
  EXPECT_TRUE(Put("cp/meta", B("x")).ok());
  EXPECT_EQ(world_.blob_store().Peek("cp/meta"), nullptr);
  EXPECT_EQ(Injected("lost"), 1);
}

TEST_F(FaultRunnerTest, StaleListMissesRecentObjects) {
  EXPECT_TRUE(Put("cp/1", B("x")).ok());  // at ~0 s
  Run(R"(faults { name: "stale" trigger { at: "5s" } blob_stale_list { scope { } lag: "3s" } })");
  RunUntil(Duration::Seconds(4));
  EXPECT_TRUE(Put("cp/2", B("x")).ok());  // at ~4 s
  RunUntil(Duration::Seconds(6));
  std::optional<std::vector<std::string>> listed;
  world_.blob_store().List(1, "cp/", [&](auto r) { listed = r.value(); });
  world_.RunFor(Duration::Seconds(1));
  EXPECT_EQ(listed, std::vector<std::string>{"cp/1"});
  EXPECT_EQ(Injected("stale"), 1);
}

// --- local disks ------------------------------------------------------------------------------

TEST_F(FaultRunnerTest, DiskWriteAndSyncErrorsHitTheirNodeOnly) {
  Run(R"(faults { name: "wr" trigger { at: "0" } disk_write_error { node: 1 scope { target_prefix: "log" } } }
         faults { name: "sy" trigger { at: "0" } disk_sync_error { node: 1 scope { } } })");
  RunUntil(Duration::Millis(1));
  ASSERT_TRUE(world_.disk(2).Create("log").ok());  // another node: untouched
  ASSERT_TRUE(world_.disk(2).Sync("log").ok());
  const Status create = world_.disk(1).Create("log");
  EXPECT_EQ(create.code(), StatusCode::kInternal);
  EXPECT_EQ(create.message().substr(0, 18), "injected fault wr:");
  ASSERT_TRUE(world_.disk(1).Create("log").ok());
  EXPECT_FALSE(world_.disk(1).Sync("log").ok());
  EXPECT_TRUE(world_.disk(1).Sync("log").ok());
  EXPECT_EQ(Injected("wr"), 1);
  EXPECT_EQ(Injected("sy"), 1);
}

TEST_F(FaultRunnerTest, DiskFullRefusesWritesDuringItsWindow) {
  Run(R"(faults { name: "full" trigger { at: "1s" } disk_full { node: 1 duration: "1s" } })");
  ASSERT_TRUE(world_.disk(1).Create("f").ok());
  RunUntil(Duration::Millis(1500));
  EXPECT_EQ(world_.disk(1).Append("f", B("abc")).code(), StatusCode::kResourceExhausted);
  RunUntil(Duration::Millis(2500));
  EXPECT_TRUE(world_.disk(1).Append("f", B("abc")).ok());
  EXPECT_EQ(Injected("full"), 1);
}

TEST_F(FaultRunnerTest, DiskCorruptionChangesWrittenBytesSilently) {
  Run(R"(faults { name: "bits" trigger { at: "0" } disk_corruption { node: 1 scope { } } })");
  RunUntil(Duration::Millis(1));
  ASSERT_TRUE(world_.disk(1).Create("f").ok());  // no bytes: not hit
  ASSERT_TRUE(world_.disk(1).Append("f", B("abcdef")).ok());
  EXPECT_NE(world_.disk(1).Read("f", 0, 6).value(), B("abcdef"));
  EXPECT_EQ(Injected("bits"), 1);
}

// --- clocks -----------------------------------------------------------------------------------

TEST_F(FaultRunnerTest, ClockSkewMakesTheNodesClockReadOff) {
  Run(R"(faults { name: "skew" trigger { at: "1s" } clock_skew { node: 2 offset: "-200ms" } })");
  RunUntil(Duration::Seconds(2));
  EXPECT_EQ(world_.LocalTime(2), Time::Zero() + Duration::Millis(1800));
  EXPECT_EQ(world_.LocalTime(1), Time::Zero() + Duration::Seconds(2));
  EXPECT_TRUE(FiredRecorded("skew"));
  EXPECT_EQ(world_.trace().CountOf(sim::TraceKind::kClockSet), 1u);
}

TEST_F(FaultRunnerTest, ClockDriftChangesTheRateWithoutAJump) {
  Run(R"(faults { name: "drift" trigger { at: "1s" } clock_drift { node: 1 drift_ppm: 100000 } })");
  RunUntil(Duration::Seconds(1));
  EXPECT_EQ(world_.LocalTime(1), Time::Zero() + Duration::Seconds(1));
  RunUntil(Duration::Seconds(2));
  EXPECT_EQ(world_.LocalTime(1), Time::Zero() + Duration::Millis(2100));
}

// --- external systems -------------------------------------------------------------------------

TEST_F(FaultRunnerTest, SourceLogSlowAndUnavailable) {
  world_.source_log().AddPartitions(1);
  world_.source_log().AppendRecord(0, B("r"));
  Run(R"(faults { name: "slow" trigger { at: "1s" } source_slow { extra_latency: "400ms" duration: "1s" } }
         faults { name: "down" trigger { at: "3s" } source_unavailable { duration: "1s" } })");
  auto read = [&] {
    std::optional<Status> status;
    const Time start = world_.now();
    Time end;
    world_.source_log().Read(1, 0, 0, 10, [&](auto r) {
      status = r.status();
      end = world_.now();
    });
    world_.RunFor(Duration::Millis(900));
    EXPECT_TRUE(status.has_value());
    return std::make_pair(status.value_or(Status::Ok()), end - start);
  };
  RunUntil(Duration::Millis(1100));
  const auto [slow, slow_took] = read();
  EXPECT_TRUE(slow.ok());
  EXPECT_GE(slow_took, Duration::Millis(400));
  RunUntil(Duration::Millis(3100));
  EXPECT_EQ(read().first.code(), StatusCode::kUnavailable);
  RunUntil(Duration::Millis(4500));
  const auto [after, after_took] = read();
  EXPECT_TRUE(after.ok());
  EXPECT_LT(after_took, Duration::Millis(100));
}

TEST_F(FaultRunnerTest, OutputStoreSlowAndUnavailable) {
  Run(R"(faults { name: "slow" trigger { at: "1s" } output_slow { extra_latency: "400ms" duration: "1s" } }
         faults { name: "down" trigger { at: "3s" } output_unavailable { duration: "1s" } })");
  auto append = [&] {
    std::optional<Status> status;
    const Time start = world_.now();
    Time end;
    world_.output_store().Append(1, {"w", 1}, {B("x")}, [&](Status s) {
      status = s;
      end = world_.now();
    });
    world_.RunFor(Duration::Millis(900));
    return std::make_pair(status.value_or(InternalError("no reply")), end - start);
  };
  RunUntil(Duration::Millis(1100));
  const auto [slow, took] = append();
  EXPECT_TRUE(slow.ok());
  EXPECT_GE(took, Duration::Millis(400));
  RunUntil(Duration::Millis(3100));
  const Status down = append().first;
  EXPECT_EQ(down.code(), StatusCode::kUnavailable);
  EXPECT_EQ(down.message().substr(0, 20), "injected fault down:");
  EXPECT_GE(Injected("slow"), 1);
  EXPECT_GE(Injected("down"), 1);
}

// --- plan errors --------------------------------------------------------------------------------

TEST_F(FaultRunnerTest, BadPlansAreAnsweredWithTheFieldPath) {
  auto create = [&](const std::string& text) {
    FaultTargets t;
    t.task_managers = {1, 2};
    return FaultRunner::Create(world_, t, Plan(text)).status();
  };
  EXPECT_EQ(
      create(
          R"(faults { trigger { at: "1s" } crash_task_manager { task_manager: 7 never_restart: true } })")
          .message(),
      "faults[0].crash_task_manager.task_manager: node 7 does not exist (task managers are "
      "nodes 1..2)");
  EXPECT_EQ(
      create(
          R"(faults { trigger { on { event: "nope" } } crash_job_manager { never_restart: true } })")
          .message()
          .rfind("faults[0].trigger.on.event: unknown engine event \"nope\" (known: ", 0),
      0u);
  EXPECT_EQ(create(R"(nemesis { fault_phase: "1s" })").message(),
            "nemesis.rates: missing: a nemesis needs rates");
}

}  // namespace
}  // namespace faultline::faults
