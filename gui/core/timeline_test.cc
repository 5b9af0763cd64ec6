// The Qt-free model of faultline-gui on real runs: a library scenario recorded in-process, its
// trace folded into the state at any moment. Seeking through keyframes gives exactly the state a
// fold from time zero gives; the checkpoint history at the end is the report's; a crash, a
// recovery and a rescale show in the state; the recording holds every record (its hash is the
// run's) and the reproduce command replays the same trace.
#include "gui/core/timeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "engine/exec/events.h"
#include "gui/core/space_time.h"
#include "gui/core/test_recording.h"
#include "scenarios/loader.h"

namespace faultline::gui {
namespace {

RunState FoldFromZero(const Recording& recording, size_t applied) {
  RunState s;
  for (size_t i = 0; i < applied; ++i) Apply(recording, recording.records[i], s);
  return s;
}

TEST(TimelineTest, RecordingHoldsTheWholeRunAndItsLayout) {
  const Recording r = RecordLibrary("rescale_4_to_2.textproto");
  ASSERT_FALSE(r.records.empty());
  EXPECT_EQ(r.records.size(), r.report.trace_records);
  EXPECT_EQ(sim::TraceRecorder::HashAll(r.records), r.report.trace_hash);
  ASSERT_EQ(r.chains.size(), 2u);
  EXPECT_EQ(r.chains[0].name, "source+double");
  EXPECT_EQ(r.chains[1].name, "sum+out");
  EXPECT_EQ(r.tasks_per_generation, (std::vector<uint32_t>{8, 4}));
  EXPECT_EQ(r.chains[1].tasks_by_generation[1],
            (std::vector<std::string>{"sum+out#0", "sum+out#1"}));
  EXPECT_EQ(SplitTaskName("sum+out#12"), (std::pair<std::string, uint32_t>{"sum+out", 12}));
  EXPECT_EQ(SplitTaskName("odd"), (std::pair<std::string, uint32_t>{"odd", 0}));
}

TEST(TimelineTest, SeekingAnywhereEqualsTheFoldFromZero) {
  const Recording r = RecordLibrary("crash_during_alignment.textproto");
  Timeline timeline(r, /*keyframe_every=*/512);
  const size_t n = timeline.size();
  ASSERT_GT(n, 2000u);
  // Back and forth, across keyframes and within one.
  for (size_t target : {n / 2, n / 7, n - 1, size_t{0}, n / 3 + 5, n / 3 + 1, n, n / 2 + 600}) {
    timeline.SeekRecord(target);
    ASSERT_EQ(timeline.state().applied, std::min(target, n));
    EXPECT_TRUE(timeline.state() == FoldFromZero(r, std::min(target, n))) << "at " << target;
  }
  // By time: every record at or before the time.
  const Time mid = r.records[n / 2].time;
  timeline.SeekTime(mid);
  EXPECT_EQ(timeline.state().now, mid);
  EXPECT_TRUE(timeline.state().applied == n || r.records[timeline.state().applied].time > mid);
}

TEST(TimelineTest, CheckpointHistoryAtTheEndIsTheReports) {
  const Recording r = RecordLibrary("rescale_4_to_2.textproto");
  Timeline timeline(r);
  timeline.SeekRecord(timeline.size());
  const RunState& end = timeline.state();
  std::set<int64_t> completed;
  std::set<int64_t> aborted;
  for (const auto& [id, row] : end.checkpoints) {
    if (row.status == CheckpointRow::Status::kCompleted) completed.insert(id);
    if (row.status == CheckpointRow::Status::kAborted) aborted.insert(id);
  }
  std::set<int64_t> want_completed;
  std::set<int64_t> want_aborted;
  for (const scenarios::CheckpointRecord& c : r.report.checkpoints) {
    if (c.outcome == scenarios::CheckpointRecord::Outcome::kCompleted) {
      want_completed.insert(static_cast<int64_t>(c.id));
    }
    if (c.outcome == scenarios::CheckpointRecord::Outcome::kAborted) {
      want_aborted.insert(static_cast<int64_t>(c.id));
    }
  }
  EXPECT_EQ(completed, want_completed);
  EXPECT_EQ(aborted, want_aborted);
  // A completed checkpoint was acknowledged by every task of its attempt's plan generation.
  for (int64_t id : completed) {
    const CheckpointRow& row = end.checkpoints.at(id);
    EXPECT_EQ(row.acknowledged, row.expected) << "checkpoint " << id;
    EXPECT_GT(row.bytes, 0) << "checkpoint " << id;
    EXPECT_GT(row.ended, row.triggered) << "checkpoint " << id;
  }
  EXPECT_EQ(end.job_status, "finished");
  EXPECT_EQ(end.latest_completed, *completed.rbegin());
}

TEST(TimelineTest, CrashRecoveryAndRescaleShowInTheState) {
  const Recording r = RecordLibrary("rescale_4_to_2.textproto");
  Timeline timeline(r);
  // The rescale: attempt 2 deploys at plan generation 1 (parallelism 2: four tasks).
  ASSERT_TRUE(timeline.StepUntil([](const sim::TraceRecord& rec) {
    const std::optional<sim::EngineEventView> e = sim::EngineEventOf(rec);
    return e && e->event == engine::EngineEvent::kDeployed && e->args.attempt == 2;
  }));
  EXPECT_EQ(timeline.state().generation, 1u);
  EXPECT_EQ(timeline.state().tasks.size(), 4u);
  // A barrier arriving at a keyed task on some inputs first: it aligns.
  bool aligned_seen = false;
  while (!aligned_seen && timeline.StepUntil(IsBarrierEvent)) {
    for (const auto& [name, t] : timeline.state().tasks) {
      aligned_seen = aligned_seen || (t.phase == TaskPhase::kAligning && t.aligning > 0 &&
                                      !t.barrier_inputs.empty());
    }
  }
  EXPECT_TRUE(aligned_seen);
  // The TaskManager crash: its node down, its tasks lost, then a recovery.
  timeline.SeekRecord(0);
  ASSERT_TRUE(timeline.StepUntil(
      [](const sim::TraceRecord& rec) { return rec.kind == sim::TraceKind::kNodeCrash; }));
  const RunState crashed = timeline.state();
  ASSERT_EQ(crashed.nodes_down.size(), 1u);
  const uint32_t node = *crashed.nodes_down.begin();
  size_t lost = 0;
  for (const auto& [name, t] : crashed.tasks) {
    if (t.node == node) {
      EXPECT_TRUE(t.phase == TaskPhase::kLost || t.phase == TaskPhase::kFinished) << name;
      ++lost;
    }
  }
  EXPECT_GT(lost, 0u);
  // The job restarts: the other tasks are cancelled.
  ASSERT_TRUE(timeline.StepUntil([](const sim::TraceRecord& rec) {
    return sim::IsEngineEvent(rec, engine::EngineEvent::kJobRestart);
  }));
  EXPECT_EQ(timeline.state().job_status, "restarting");
  for (const auto& [name, t] : timeline.state().tasks) {
    EXPECT_TRUE(t.phase == TaskPhase::kLost || t.phase == TaskPhase::kCanceled) << name;
  }
  ASSERT_TRUE(timeline.StepUntil([](const sim::TraceRecord& rec) {
    return sim::IsEngineEvent(rec, engine::EngineEvent::kDeployed);
  }));
  EXPECT_EQ(timeline.state().attempt, 3u);
  for (const auto& [name, t] : timeline.state().tasks) EXPECT_NE(t.phase, TaskPhase::kLost) << name;
  // The moments name the crash and the recoveries, in time order.
  const std::vector<Moment>& moments = timeline.moments();
  EXPECT_TRUE(std::is_sorted(moments.begin(), moments.end(),
                             [](const Moment& a, const Moment& b) { return a.record < b.record; }));
  EXPECT_TRUE(std::any_of(moments.begin(), moments.end(), [](const Moment& m) {
    return m.kind == Moment::Kind::kFault && m.text.find("crashed") != std::string::npos;
  }));
  EXPECT_GE(std::count_if(moments.begin(), moments.end(),
                          [](const Moment& m) { return m.kind == Moment::Kind::kRecovery; }),
            4);
}

TEST(TimelineTest, TheReproduceCommandReplaysTheSameTrace) {
  const Recording r = RecordLibrary("crash_during_alignment.textproto");
  EXPECT_NE(r.report.reproduce.find("faultline run "), std::string::npos);
  EXPECT_NE(r.report.reproduce.find("--seed " + std::to_string(r.report.seed)), std::string::npos);
  Result<scenarios::Scenario> again = scenarios::LoadScenarioFile(r.report.path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  Result<scenarios::RunReport> replay =
      scenarios::RunScenario(*again, scenarios::RunOptions{.seed = r.report.seed});
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_EQ(replay->trace_hash, r.report.trace_hash);
}

// The space-time diagram pairs each barrier reception with its producer's emission on that input
// channel: at parallelism 4 with a hash exchange, checkpoint 1 has 4 x 4 arrows, 4 alignments
// (one per consumer) and 8 snapshots; every arrow goes forward in time to the next chain.
TEST(SpaceTimeTest, BarriersAlignmentsAndSnapshotsOfACheckpoint) {
  const Recording r = RecordLibrary("rescale_4_to_2.textproto");
  const SpaceTime st = BuildSpaceTime(r);
  ASSERT_EQ(st.lanes.size(), 8u);  // task names repeat across plan generations
  EXPECT_EQ(st.lanes.front(), "source+double#0");
  EXPECT_EQ(st.lanes.back(), "sum+out#3");
  const auto count = [](const auto& items, int64_t checkpoint) {
    return std::count_if(items.begin(), items.end(),
                         [checkpoint](const auto& i) { return i.checkpoint == checkpoint; });
  };
  EXPECT_EQ(count(st.arrows, 1), 16);
  EXPECT_EQ(count(st.spans, 1), 4);
  EXPECT_EQ(count(st.dots, 1), 8);
  for (const SpaceTime::Arrow& a : st.arrows) {
    EXPECT_LE(a.sent, a.received);
    EXPECT_TRUE(st.lanes[a.from].starts_with("source+double#")) << st.lanes[a.from];
    EXPECT_TRUE(st.lanes[a.to].starts_with("sum+out#")) << st.lanes[a.to];
  }
  // After the rescale (checkpoint 4 on), two producers feed each of two consumers.
  EXPECT_EQ(count(st.arrows, 4), 4);
  // The crash and every deployment are marked.
  EXPECT_TRUE(std::any_of(st.lines.begin(), st.lines.end(), [](const SpaceTime::Line& l) {
    return l.kind == SpaceTime::Line::Kind::kFault && l.text.find("crashed") != std::string::npos;
  }));
  EXPECT_GE(std::count_if(st.lines.begin(), st.lines.end(),
                          [](const SpaceTime::Line& l) {
                            return l.kind == SpaceTime::Line::Kind::kRecovery;
                          }),
            3);
}

}  // namespace
}  // namespace faultline::gui
