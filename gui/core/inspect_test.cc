// The inspector on real runs: its per-channel counts add up to the flow's frame for the task,
// back-pressure shows on an output queue at its limit, the keyed subtasks' key groups split the
// key space exactly, and a rescale changes them.
#include "gui/core/inspect.h"

#include <gtest/gtest.h>

#include "gui/core/test_recording.h"
#include "scenarios/loader.h"

namespace faultline::gui {
namespace {

TEST(InspectTest, ChannelCountsAddUpToTheFrame) {
  const Recording r = RecordLibrary("backpressure_aligned.textproto");
  Timeline timeline(r);
  bool saw_backpressure = false;
  const int64_t end = timeline.end().nanos();
  for (int k = 1; k < 200; ++k) {
    const Time t = Time::FromNanos(end / 200 * k);
    timeline.SeekTime(t);
    const RunState& s = timeline.state();
    const FlowFrame frame = r.flow.FrameAt(t, s.attempt);
    const auto& names = r.task_names_by_generation.at(s.generation);
    for (uint32_t task = 0; task < names.size(); ++task) {
      const TaskInspection in = Inspect(r, s, frame, names[task]);
      ASSERT_TRUE(in.found);
      uint32_t input_queued = 0, output_queued = 0, longest = 0;
      for (const ChannelInspection& c : in.inputs) input_queued += c.queued_buffers;
      for (const ChannelInspection& c : in.outputs) {
        output_queued += c.queued_buffers;
        longest = std::max(longest, c.queued_buffers);
      }
      const auto f = frame.tasks.find(task);
      EXPECT_EQ(input_queued, f == frame.tasks.end() ? 0 : f->second.input_queued);
      EXPECT_EQ(output_queued, f == frame.tasks.end() ? 0 : f->second.output_queued);
      EXPECT_EQ(in.backpressured, f != frame.tasks.end() && f->second.backpressured);
      if (in.backpressured) {
        saw_backpressure = true;
        EXPECT_GE(longest, r.flow.output_queue_max());
      }
      EXPECT_EQ(in.inputs.size(), r.inputs_by_generation.at(s.generation).at(names[task]).size());
    }
  }
  EXPECT_TRUE(saw_backpressure);
  EXPECT_FALSE(Inspect(r, timeline.state(), {}, "no-such-task#0").found);
}

TEST(InspectTest, KeyGroupsSplitTheKeySpaceAndFollowARescale) {
  const Recording r = RecordLibrary("rescale_4_to_2.textproto");
  ASSERT_EQ(r.key_groups_by_generation.size(), 2u);
  // Generation 0: sum+out#0..3 own key groups; the sources none.
  EXPECT_FALSE(r.key_groups_by_generation[0].contains("source+double#0"));
  EXPECT_EQ(r.key_groups_by_generation[0].size(), 4u);
  EXPECT_EQ(r.key_groups_by_generation[1].size(), 2u);
  EXPECT_NE(r.key_groups_by_generation[0].at("sum+out#1"),
            r.key_groups_by_generation[1].at("sum+out#1"));
  EXPECT_TRUE(r.key_groups_by_generation[0].at("sum+out#0").starts_with("key groups 0-"));
  Timeline timeline(r);
  timeline.SeekRecord(timeline.size());
  const TaskInspection last = Inspect(r, timeline.state(), {}, "sum+out#1");
  ASSERT_TRUE(last.found);
  EXPECT_EQ(last.key_groups, r.key_groups_by_generation[1].at("sum+out#1"));
  EXPECT_EQ(last.phase, TaskPhase::kFinished);
}

}  // namespace
}  // namespace faultline::gui
