#include "engine/exec/events.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace faultline::engine {
namespace {

TEST(EngineEventsTest, EveryRowHasAUniqueValueNameAndDistinctArguments) {
  std::set<int64_t> values;
  std::set<std::string_view> names;
  for (const EngineEventInfo& info : kEngineEvents) {
    EXPECT_TRUE(values.insert(static_cast<int64_t>(info.event)).second) << info.name;
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_EQ(FindEngineEventByName(info.name), &info);
    EXPECT_EQ(EngineEventName(static_cast<int64_t>(info.event)), info.name);
    std::set<EventArg> args;
    for (EventArg arg : info.args) {
      if (arg == EventArg::kNone) continue;
      EXPECT_TRUE(args.insert(arg).second) << info.name << " names an argument twice";
      EXPECT_FALSE(EventArgName(arg).empty());
    }
  }
  EXPECT_EQ(FindEngineEvent(999), nullptr);
  EXPECT_EQ(EngineEventName(999), "engine-event");
  EXPECT_EQ(FindEngineEventByName("nope"), nullptr);
}

TEST(EngineEventsTest, ArgumentsTravelByName) {
  const std::string task = "sum+out#2";
  const runtime::EngineEvent e =
      MakeEvent(EngineEvent::kBarrierReceived, task, {.checkpoint = 7, .input = 1});
  EXPECT_EQ(e.kind, static_cast<int64_t>(EngineEvent::kBarrierReceived));
  EXPECT_EQ(e.detail, task);
  const EventArgs read = ReadEventArgs(EngineEvent::kBarrierReceived, e.args);
  EXPECT_EQ(read.checkpoint, 7);
  EXPECT_EQ(read.input, 1);
  EXPECT_FALSE(read.bytes.has_value()) << "barrier-received carries no byte count";
  EXPECT_EQ(SlotOf(EngineEvent::kBarrierReceived, EventArg::kInput), 1u);
  EXPECT_EQ(SlotOf(EngineEvent::kBarrierReceived, EventArg::kBytes), std::nullopt);

  // The third slot, and an event with no argument at all.
  const EventArgs ack =
      ReadEventArgs(EngineEvent::kAckSent,
                    MakeEvent(EngineEvent::kAckSent, task,
                              {.checkpoint = 3, .start_delay_nanos = 40, .processed_bytes = 512})
                        .args);
  EXPECT_EQ(ack.processed_bytes, 512);
  EXPECT_EQ(ack.start_delay_nanos, 40);
  const runtime::EngineEvent end = MakeEvent(EngineEvent::kEndOfInput, task, {});
  EXPECT_EQ(end.args[0], 0);
}

TEST(EngineEventsDeathTest, AnEmitterCannotLeaveOutOrAddAnArgument) {
  EXPECT_DEATH(MakeEvent(EngineEvent::kBarrierReceived, "t", {.checkpoint = 7}),
               "without one of its arguments");
  EXPECT_DEATH(MakeEvent(EngineEvent::kBarrierEmitted, "t", {.checkpoint = 7, .input = 0}),
               "does not name");
}

}  // namespace
}  // namespace faultline::engine
