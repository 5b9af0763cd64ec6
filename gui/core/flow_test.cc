// The recorded data plane on real runs: every record crosses an exchange once in a fault-free
// run, every barrier the engine reports received is a buffer that arrived on that input before,
// the frames at any time place items consistently, back-pressure and an unaligned barrier
// overtaking queued data show, recording changes nothing about the run, and it is deterministic.
#include "gui/core/flow.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "engine/exec/events.h"
#include "gui/core/recording.h"
#include "gui/core/test_recording.h"
#include "gui/core/timeline.h"
#include "scenarios/loader.h"

namespace faultline::gui {
namespace {

using Kind = engine::BufferInfo::Kind;

// The checks every frame must pass: network positions within the way, each queue numbered
// 0..n-1 from the front, the counts adding up.
void ExpectConsistent(const FlowFrame& frame) {
  std::map<std::tuple<uint32_t, bool, uint32_t>, std::set<double>> places;
  uint64_t records = 0;
  for (const InFlight& f : frame.items) {
    ASSERT_NE(f.item, nullptr);
    EXPECT_EQ(f.item->attempt, frame.attempt);
    EXPECT_LE(f.item->start(), frame.at);
    EXPECT_GT(f.item->left, frame.at);
    records += f.item->buffer.records;
    switch (f.where) {
      case InFlight::Where::kNetwork:
        EXPECT_GE(f.position, 0.0);
        EXPECT_LE(f.position, 1.0);
        break;
      case InFlight::Where::kOutputQueue:
        EXPECT_TRUE((places[{f.item->producer, true, f.item->output}].insert(f.position).second));
        break;
      case InFlight::Where::kInputQueue:
        EXPECT_TRUE((places[{f.item->consumer, false, f.item->input}].insert(f.position).second));
        break;
    }
  }
  for (const auto& [queue, at] : places) {
    EXPECT_EQ(*at.rbegin(), static_cast<double>(at.size() - 1));
  }
  EXPECT_EQ(records, frame.records_in_flight);
}

TEST(FlowTest, AFaultFreeRunCarriesEveryRecordAcrossTheExchangeOnce) {
  const Recording r = RecordLibrary("happy_aligned.textproto");
  const std::vector<FlowItem>& items = r.flow.items();
  ASSERT_FALSE(items.empty());
  uint64_t crossed = 0;
  std::map<uint64_t, int> barriers;  // checkpoint -> barrier buffers that arrived
  for (const FlowItem& item : items) {
    EXPECT_LE(item.queued, item.left);
    if (item.buffer.kind == Kind::kHandshake) continue;
    ASSERT_NE(item.arrived, Time::Max()) << "a buffer of a fault-free run never arrived";
    EXPECT_LE(item.queued, item.sent);
    EXPECT_LE(item.sent, item.arrived);
    EXPECT_LE(item.arrived, item.left);
    EXPECT_EQ(item.attempt, 1u);
    if (item.buffer.kind == Kind::kRecords) crossed += item.buffer.records;
    if (item.buffer.kind == Kind::kBarrier) ++barriers[item.buffer.checkpoint];
  }
  // source+double -> hash -> sum+out: each source record crosses the one exchange once.
  EXPECT_EQ(crossed, r.report.source_records);
  // Every checkpoint's barrier travelled every channel of the 4 x 4 exchange once.
  ASSERT_FALSE(barriers.empty());
  for (const auto& [checkpoint, n] : barriers) EXPECT_EQ(n, 16) << "checkpoint " << checkpoint;
  EXPECT_EQ(barriers.size(), r.report.checkpoints.size());
}

TEST(FlowTest, EveryBarrierReceivedArrivedOnThatInputBefore) {
  for (const char* file : {"happy_aligned.textproto", "backpressure_unaligned.textproto",
                           "crash_during_alignment.textproto"}) {
    SCOPED_TRACE(file);
    const Recording r = RecordLibrary(file);
    std::multiset<std::tuple<std::string, uint32_t, uint64_t, uint64_t>> arrived;
    std::map<uint64_t, uint32_t> generation;  // attempt -> plan generation
    for (const sim::TraceRecord& rec : r.records) {
      const auto e = sim::EngineEventOf(rec);
      if (e && e->event == engine::EngineEvent::kDeployed) {
        generation[static_cast<uint64_t>(e->args.attempt.value_or(0))] =
            static_cast<uint32_t>(e->args.generation.value_or(0));
      }
    }
    size_t received = 0;
    uint64_t attempt = 0;
    for (const sim::TraceRecord& rec : r.records) {
      const auto e = sim::EngineEventOf(rec);
      if (!e) continue;
      if (e->event == engine::EngineEvent::kDeployed) {
        attempt = static_cast<uint64_t>(e->args.attempt.value_or(0));
      }
      if (e->event != engine::EngineEvent::kBarrierReceived) continue;
      ++received;
      const auto input = static_cast<uint32_t>(e->args.input.value_or(0));
      const auto checkpoint = static_cast<uint64_t>(e->args.checkpoint.value_or(0));
      bool found = false;
      for (const FlowItem& item : r.flow.items()) {
        if (item.attempt != attempt || item.buffer.kind != Kind::kBarrier ||
            item.buffer.checkpoint != checkpoint || item.input != input ||
            item.arrived > rec.time) {
          continue;
        }
        const auto& names = r.task_names_by_generation.at(generation.at(attempt));
        if (names.at(item.consumer) == rec.detail) found = true;
      }
      EXPECT_TRUE(found) << rec.detail << " checkpoint " << checkpoint << " input " << input;
    }
    EXPECT_GT(received, 0u);
  }
}

TEST(FlowTest, FramesPlaceItemsConsistentlyAndShowBackPressure) {
  const Recording r = RecordLibrary("backpressure_aligned.textproto");
  Timeline timeline(r);
  bool backpressured = false;
  uint64_t most = 0;
  const int64_t end = timeline.end().nanos();
  for (int k = 1; k < 400; ++k) {
    const Time t = Time::FromNanos(end / 400 * k);
    timeline.SeekTime(t);
    const FlowFrame frame = r.flow.FrameAt(t, timeline.state().attempt);
    ExpectConsistent(frame);
    most = std::max(most, frame.records_in_flight);
    for (const auto& [task, tf] : frame.tasks) {
      if (tf.backpressured) {
        backpressured = true;
        EXPECT_GE(tf.output_queue_max, r.flow.output_queue_max());
      }
    }
  }
  EXPECT_TRUE(backpressured);
  EXPECT_GT(most, 0u);
}

TEST(FlowTest, AnUnalignedBarrierOvertakesQueuedRecords) {
  const Recording r = RecordLibrary("backpressure_unaligned.textproto");
  size_t overtaking = 0;
  for (const FlowItem& item : r.flow.items()) {
    if (item.buffer.kind != Kind::kBarrier || !item.taken_on_arrival) continue;
    EXPECT_TRUE(item.buffer.unaligned);
    // Just before it arrived, records were queued on its input: it went ahead of them.
    const FlowFrame before = r.flow.FrameAt(item.arrived - Duration::Nanos(1), item.attempt);
    for (const InFlight& f : before.items) {
      if (f.where == InFlight::Where::kInputQueue && f.item->consumer == item.consumer &&
          f.item->input == item.input && f.item->buffer.kind == Kind::kRecords &&
          f.item->left > item.arrived) {
        ++overtaking;
        break;
      }
    }
  }
  EXPECT_GT(overtaking, 0u);
}

TEST(FlowTest, RecordingTheFlowChangesNothingAndIsDeterministic) {
  Result<scenarios::Scenario> scenario = scenarios::LoadScenarioFile(
      std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/crash_during_alignment.textproto");
  ASSERT_TRUE(scenario.ok());
  Result<scenarios::RunReport> plain = scenarios::RunScenario(*scenario, {});
  ASSERT_TRUE(plain.ok());
  const Recording a = RecordLibrary("crash_during_alignment.textproto");
  const Recording b = RecordLibrary("crash_during_alignment.textproto");
  EXPECT_EQ(a.report.trace_hash, plain->trace_hash);
  EXPECT_TRUE(a.flow.items() == b.flow.items());
  // Items of the attempt a crash ended leave when it ends.
  std::set<uint64_t> attempts;
  for (const FlowItem& item : a.flow.items()) {
    attempts.insert(item.attempt);
    EXPECT_NE(item.left, Time::Max());
  }
  EXPECT_GE(attempts.size(), 2u);
}

}  // namespace
}  // namespace faultline::gui
