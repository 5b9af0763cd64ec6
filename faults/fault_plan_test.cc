// A fault plan built in C++: validated by field path, and run on a bare world without any
// scenario file.
#include "faults/fault_plan.h"

#include <gtest/gtest.h>

#include "faults/fault_runner.h"

namespace faultline::faults {
namespace {

FaultTargets Targets() {
  FaultTargets t;
  t.job_manager = 0;
  t.task_managers = {1, 2};
  t.task_names = {"work#0"};
  t.resolve_subtask = [](std::string_view name) -> std::optional<uint32_t> {
    if (name == "work#0") return 0;
    return std::nullopt;
  };
  t.run_limit = Duration::Seconds(30);
  return t;
}

PlanEntry At(Duration at, FaultSpec fault) {
  return PlanEntry{.trigger = {.at = at}, .fault = std::move(fault)};
}

std::string Error(const FaultPlan& plan) {
  return std::string(ValidatePlan(plan, Targets()).message());
}

TEST(FaultPlanTest, ValidPlansPass) {
  FaultPlan plan;
  plan.entries.push_back(At(
      Duration::Seconds(1),
      {.kind = FaultKind::kCrashTaskManager, .node = 2, .restart_after = Duration::Millis(300)}));
  plan.entries.push_back({.trigger = {.on = EventTrigger{.event = "ack-sent", .subtask = "work#0"}},
                          .fault = {.kind = FaultKind::kBlobWriteError, .scope = {.count = 2}}});
  plan.nemesis = NemesisOptions{.fault_phase = Duration::Seconds(10),
                                .rates = {{.kind = FaultKind::kPause, .per_minute = 6}}};
  EXPECT_TRUE(ValidatePlan(plan, Targets()).ok()) << Error(plan);
}

TEST(FaultPlanTest, ErrorsNameTheSchemaFieldPath) {
  EXPECT_EQ(Error({.entries = {At(
                       Duration::Seconds(1),
                       {.kind = FaultKind::kCrashTaskManager, .node = 7, .never_restart = true})}}),
            "faults[0].crash_task_manager.task_manager: node 7 does not exist (task managers "
            "are nodes 1..2)");
  EXPECT_EQ(Error({.entries = {At(Duration::Seconds(1), {.kind = FaultKind::kPause, .node = 1})}}),
            "faults[0].pause.duration: missing: a positive duration");
  EXPECT_EQ(Error({.entries = {At(Duration::Seconds(1),
                                  {.kind = FaultKind::kPartition, .side_a = {1}, .side_b = {1}})}}),
            "faults[0].partition.side_b[0]: node 1 is listed twice (the sides must be disjoint)");
  EXPECT_EQ(Error({.entries = {At(Duration::Seconds(40),
                                  {.kind = FaultKind::kCrashJobManager, .never_restart = true})}}),
            "faults[0].trigger.at: 40s is not before the run limit 30s (the fault would never "
            "fire)");
  FaultPlan bad_event{.entries = {At(Duration::Zero(), {.kind = FaultKind::kCrashJobManager,
                                                        .never_restart = true})}};
  bad_event.entries[0].trigger = {.on = EventTrigger{.event = "nope"}};
  EXPECT_EQ(Error(bad_event).rfind("faults[0].trigger.on.event: unknown engine event \"nope\"", 0),
            0u);
  EXPECT_EQ(Error({.nemesis = NemesisOptions{.fault_phase = Duration::Seconds(1)}}),
            "nemesis.rates: missing: a nemesis needs rates");
}

TEST(FaultPlanTest, RunsOnABareWorld) {
  sim::World world(sim::WorldOptions{.seed = 3});
  for (const char* name : {"jobmanager", "taskmanager-1", "taskmanager-2"}) {
    world.Start(world.AddNode(name, nullptr));
  }
  FaultPlan plan{.entries = {At(Duration::Seconds(1), {.kind = FaultKind::kCrashTaskManager,
                                                       .node = 2,
                                                       .restart_after = Duration::Millis(300)})}};
  auto runner = FaultRunner::Create(world, Targets(), plan).value();
  runner->Install();
  world.RunUntil(Time::Zero() + Duration::Millis(1100));
  EXPECT_FALSE(world.IsUp(2));
  world.RunUntil(Time::Zero() + Duration::Millis(1400));
  EXPECT_TRUE(world.IsUp(2));
  EXPECT_TRUE(runner->Report().conclusive());
}

}  // namespace
}  // namespace faultline::faults
