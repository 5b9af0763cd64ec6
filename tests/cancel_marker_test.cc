// Declines on a real run, read from the trace: a checkpoint declined because barrier n+1
// overtook n (subsumed) does not count toward the tolerable failures, and the declining task
// sends a cancellation marker downstream with the data (Flink's CancelCheckpointMarker), so the
// consumer's alignment of n ends at the marker, before the JobManager's abort reaches it.
//
// The job: 2 sources -> key_by -> sum (2 subtasks) -> rebalance -> fwd+out (1 subtask), every
// task on its own TaskManager. Source 1's link to sum#1 is slow and, under the no-alignment
// teaching switch (inputs are not blocked while aligning) with several checkpoints in flight,
// barrier n+1 from source 0 reaches sum#1 before barrier n from source 1: sum#1 declines n as
// subsumed and sends the marker; sum#0 completes n and forwards its barrier, so fwd+out is
// aligning n when the marker arrives.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/api/job.h"
#include "engine/exec/events.h"
#include "engine/exec/wire.h"
#include "simulator/job_world.h"
#include "tests/support/job_fixtures.h"

namespace faultline {
namespace {

using engine::EngineEvent;

// Delays every buffer node `from` sends to node `to`.
class SlowLink : public sim::FaultInjector {
 public:
  SlowLink(uint32_t from, uint32_t to, Duration delay) : from_(from), to_(to), delay_(delay) {}
  sim::FaultEffect Decide(const sim::FaultSite& site) override {
    if (site.point != sim::FaultPoint::kNetSend || site.node != from_ || site.peer != to_) {
      return {};
    }
    return sim::FaultEffect{.extra_delay = delay_, .fault_name = "slow-link"};
  }

 private:
  uint32_t from_;
  uint32_t to_;
  Duration delay_;
};

struct Record {
  sim::TraceKind kind;
  Time at;
  uint32_t node;
  int64_t args[4];
  std::string detail;
};

class Recorder : public sim::TraceObserver {
 public:
  void OnRecord(const sim::TraceRecord& r) override {
    if (r.kind != sim::TraceKind::kEngine && r.kind != sim::TraceKind::kDeliver) return;
    list.push_back(Record{r.kind,
                          r.time,
                          r.node,
                          {r.args[0], r.args[1], r.args[2], r.args[3]},
                          std::string(r.detail)});
  }
  // The engine events `event` (of task `task`, when given).
  std::vector<Record> Of(EngineEvent event, std::string_view task = {}) const {
    std::vector<Record> out;
    for (const Record& r : list) {
      if (r.kind == sim::TraceKind::kEngine && r.args[0] == engine::Ev(event) &&
          (task.empty() || r.detail == task)) {
        out.push_back(r);
      }
    }
    return out;
  }
  std::vector<Record> list;
};

struct Run {
  engine::JobStatus status;
  uint32_t restarts = 0;
  uint32_t fwd_node = 0;
  Recorder trace;
};

std::unique_ptr<Run> RunJob(uint32_t tolerable_failures) {
  engine::JobBuilder job("markers");
  job.Source("source", {.source_id = 0, .parallelism = 2})
      .WithRecordCost(Duration::Micros(300))
      .KeyBy([](const engine::Record& r) { return r.key; })
      .Process("sum", std::make_shared<testing_support::RunningSum>(), 2)
      .Rebalance()
      .Map(
          "fwd", [](const engine::Record& r) { return r; }, 1)
      .Sink("out", {.kind = engine::SinkKind::kTwoPhaseCommit});
  engine::EngineConfig config;
  config.checkpoints.interval = Duration::Millis(25);
  config.checkpoints.max_concurrent = 3;
  config.checkpoints.tolerable_failures = tolerable_failures;
  config.switches.no_alignment = true;
  config.channel_credits = 16;  // the slow link carries the data besides the barriers
  sim::JobWorldOptions options;
  options.task_managers = 5;
  options.source_partitions = 2;
  auto run = std::make_unique<Run>();
  auto jw = sim::JobWorld::Create(job.Build().value(), config, options).value();
  const engine::ExecutionPlan& plan = jw->setup().plan;
  std::map<std::string, uint32_t> node;
  for (const engine::TaskSpec& t : plan.tasks) node[t.name] = t.node;
  EXPECT_EQ(node.size(), 5u);
  run->fwd_node = node.at("fwd+out#0");
  testing_support::FillSource(*jw, 2, 4000);
  SlowLink slow(node.at("source#1"), node.at("sum#1"), Duration::Millis(60));
  jw->world().faults().Install(&slow);
  jw->world().trace().AddObserver(&run->trace);
  jw->Start();
  run->status = jw->RunUntilDone(Time::Zero() + Duration::Seconds(120));
  jw->world().trace().RemoveObserver(&run->trace);
  jw->world().faults().Uninstall(&slow);
  run->restarts = static_cast<uint32_t>(run->trace.Of(EngineEvent::kJobRestart).size());
  return run;
}

constexpr int64_t Reason(engine::DeclineReason reason) {
  return static_cast<int64_t>(reason);
}

TEST(SubsumedDeclineTest, SubsumedDeclinesDoNotCountTowardTheTolerableFailures) {
  const auto run = RunJob(/*tolerable_failures=*/0);
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  int subsumed = 0;
  for (const Record& r : run->trace.Of(EngineEvent::kCheckpointDeclined, "sum#1")) {
    subsumed += r.args[2] == Reason(engine::DeclineReason::kSubsumed) ? 1 : 0;
  }
  EXPECT_GE(subsumed, 5) << "the slow link should make barrier n+1 overtake n at sum#1";
  // The JobManager aborted them for the decline, naming the reason, and restarted nothing.
  int aborted_subsumed = 0;
  for (const Record& r : run->trace.Of(EngineEvent::kCheckpointAborted)) {
    aborted_subsumed += r.detail.find("(subsumed)") != std::string::npos ? 1 : 0;
  }
  EXPECT_GE(aborted_subsumed, 5);
  EXPECT_EQ(run->restarts, 0u) << "a subsumed decline is not a checkpoint failure";
}

TEST(CancelMarkerTest, TheConsumersAlignmentEndsAtTheMarkerBeforeTheJobManagersAbort) {
  const auto run = RunJob(/*tolerable_failures=*/1000);
  ASSERT_EQ(run->status, engine::JobStatus::kFinished);
  const std::string consumer = "fwd+out#0";
  int ended_at_marker = 0;
  for (const Record& decline : run->trace.Of(EngineEvent::kCheckpointDeclined, "sum#1")) {
    const int64_t n = decline.args[1];
    // sum#1 sent the marker of n with its decline.
    bool sent = false;
    for (const Record& r : run->trace.Of(EngineEvent::kCancelMarkerSent, "sum#1")) {
      sent |= r.args[1] == n && r.at == decline.at;
    }
    EXPECT_TRUE(sent) << "checkpoint " << n;
    // The consumer was aligning n (sum#0's barrier n arrived) when the marker arrived, and
    // declined n there (cancellation-marker), ending the alignment.
    std::optional<Time> barrier, marker, consumer_decline;
    for (const Record& r : run->trace.Of(EngineEvent::kBarrierReceived, consumer)) {
      if (r.args[1] == n && !barrier) barrier = r.at;
    }
    for (const Record& r : run->trace.Of(EngineEvent::kCancelMarkerReceived, consumer)) {
      if (r.args[1] == n && !marker) marker = r.at;
    }
    int64_t consumer_reason = -1;
    for (const Record& r : run->trace.Of(EngineEvent::kCheckpointDeclined, consumer)) {
      if (r.args[1] == n && !consumer_decline) {
        consumer_decline = r.at;
        consumer_reason = r.args[2];
      }
    }
    if (!barrier || !marker || *barrier > *marker) continue;  // not aligning n at the marker
    // A newer barrier (from sum#0) ended the alignment before the marker came (subsumed).
    if (consumer_decline && *consumer_decline < *marker) continue;
    // The JobManager's abort of n: sent when sum#1's decline reached it; it reaches the
    // consumer's TaskManager no earlier than the first buffer the JobManager's node delivers
    // there after sending it.
    std::optional<Time> abort_sent;
    for (const Record& r : run->trace.Of(EngineEvent::kCheckpointAborted)) {
      if (r.args[1] == n) abort_sent = r.at;
    }
    ASSERT_TRUE(abort_sent.has_value()) << "checkpoint " << n;
    std::optional<Time> abort_arrived;
    for (const Record& r : run->trace.list) {
      if (r.kind == sim::TraceKind::kDeliver && r.node == run->fwd_node && r.args[1] == 0 &&
          r.at >= *abort_sent) {
        abort_arrived = r.at;
        break;
      }
    }
    ASSERT_TRUE(abort_arrived.has_value()) << "checkpoint " << n;
    // When the abort won the race, the alignment ended at it (as without markers).
    if (*marker >= *abort_arrived) continue;
    // The marker won: the consumer's alignment of n ended there, declined as cancelled.
    ASSERT_TRUE(consumer_decline.has_value()) << "checkpoint " << n;
    EXPECT_EQ(*consumer_decline, *marker) << "the alignment of " << n << " ends at the marker";
    EXPECT_EQ(consumer_reason, Reason(engine::DeclineReason::kCancellationMarker));
    EXPECT_LT(*consumer_decline, *abort_arrived) << "checkpoint " << n;
    ++ended_at_marker;
  }
  EXPECT_GE(ended_at_marker, 3) << "the consumer should be aligning when markers arrive";
}

}  // namespace
}  // namespace faultline
