// The fault plan <-> scenario schema conversion: every fault kind round-trips (plan -> textproto
// -> loader -> plan), and the schema's Fault oneof is the fault kind table.
#include "scenarios/fault_plan_proto.h"

#include <gtest/gtest.h>

#include <string>

#include "faults/fault_descriptors.h"
#include "scenarios/loader.h"

namespace faultline::scenarios {
namespace {

using faults::FaultField;
using faults::FaultKind;
using faults::FaultSpec;
using faults::FieldType;

// Three task managers; tasks source#0..1 and sum+out#0..1 (sum#1 runs in sum+out#1).
constexpr std::string_view kBase =
    "name: \"round-trip\" run_limit: \"60s\" cluster { task_managers: 3 }\n"
    "job { parallelism: 2\n"
    "  operators { source { partitions: 2 records_per_partition: 10 } }\n"
    "  operators { key_by {} }\n"
    "  operators { name: \"sum\" aggregate { function: \"running-sum\" } }\n"
    "  operators { name: \"out\" sink {} } }\n";

// A valid, non-default value for every field a kind's descriptor lists. The switch has no
// default: a new field type does not compile until it has a sample here.
FaultSpec Sample(FaultKind kind) {
  FaultSpec s;
  s.kind = kind;
  for (const FaultField& f : faults::DescriptorOf(kind).fields) {
    switch (f.type) {
      case FieldType::kNode:
        s.node = 2;
        break;
      case FieldType::kTaskManager:
        s.node = 3;
        break;
      case FieldType::kLink:
        s.link = faults::Link{.a = 1, .b = 3};
        break;
      case FieldType::kSides:
        s.side_a = {0, 1};
        s.side_b = {3, 2};
        break;
      case FieldType::kSubtask:
        s.subtask = "sum#1";
        break;
      case FieldType::kRestart:
        s.restart_after = Duration::Millis(1500);
        break;
      case FieldType::kDuration:
        s.*f.duration = f.rule == faults::DurationRule::kNonZero ? Duration::Micros(-250)
                                                                 : Duration::Millis(1500);
        break;
      case FieldType::kFlag:
        s.*f.flag = true;
        break;
      case FieldType::kEnum:
        s.*f.int64 = 1;
        EXPECT_EQ(f.check_int(s.*f.int64), "") << f.name;
        break;
      case FieldType::kInt64:
        // A rescale's parallelism must fit the job's max parallelism (128 here).
        s.*f.int64 = f.int64 == &faults::FaultSpec::parallelism ? 2 : 1000;
        EXPECT_EQ(f.check_int(s.*f.int64), "") << f.name;
        break;
      case FieldType::kBytesFromEnd:
        s.bytes_from_end = 7;
        break;
      case FieldType::kRate:
        s.rate = 0.25;
        break;
      case FieldType::kScope:
        s.scope =
            faults::Scope{.target_prefix = "chk-", .count = 2, .duration = Duration::Seconds(3)};
        break;
    }
  }
  return s;
}

faults::FaultPlan RoundTrip(const faults::FaultPlan& plan) {
  const std::string text = std::string(kBase) + FaultPlanToTextproto(plan);
  Result<Scenario> loaded = ParseScenario(text, "round_trip.textproto");
  EXPECT_TRUE(loaded.ok()) << loaded.status().message() << "\n" << text;
  if (!loaded.ok()) return {};
  Result<faults::FaultPlan> back = FaultPlanFromProto(loaded->spec);
  EXPECT_TRUE(back.ok()) << back.status().message();
  return back.ok() ? std::move(back).value() : faults::FaultPlan{};
}

TEST(FaultPlanProtoTest, EveryKindRoundTrips) {
  faults::FaultPlan plan;
  for (const faults::FaultKindInfo& info : faults::kFaultKinds) {
    faults::PlanEntry entry;
    entry.name = "every field of " + std::string(info.name);
    entry.fault = Sample(info.kind);
    if (plan.entries.size() % 2 == 0) {
      entry.trigger.at = Duration::Millis(2500);
    } else {
      entry.trigger.on = faults::EventTrigger{.event = "barrier-received",
                                              .checkpoint = 3,
                                              .subtask = "sum#1",
                                              .input = 1,
                                              .occurrence = 2,
                                              .delay = Duration::Micros(10)};
    }
    if (plan.entries.size() % 3 == 0) entry.ends_by = Duration::Millis(4250);
    plan.entries.push_back(entry);
  }
  EXPECT_EQ(RoundTrip(plan), plan);
  // One kind at a time, so a failure names the kind.
  for (const faults::PlanEntry& entry : plan.entries) {
    const faults::FaultPlan one{.entries = {entry}};
    EXPECT_EQ(RoundTrip(one), one) << entry.name << ":\n" << FaultPlanToTextproto(one);
  }
}

TEST(FaultPlanProtoTest, CrashesThatNeverRestartAndTheNemesisRoundTrip) {
  faults::FaultPlan plan;
  plan.entries.push_back({.trigger = {.at = Duration::Zero()},
                          .fault = {.kind = FaultKind::kCrashJobManager, .never_restart = true}});
  faults::NemesisOptions nemesis{
      .fault_phase = Duration::Seconds(20), .quiet_phase = Duration::Seconds(10), .swarm = true};
  for (const faults::FaultKindInfo& info : faults::kFaultKinds) {
    nemesis.rates.push_back({.kind = info.kind, .per_minute = 1.5});
  }
  plan.nemesis = nemesis;
  EXPECT_EQ(RoundTrip(plan), plan);
}

TEST(FaultPlanProtoTest, ConversionErrorsNameTheField) {
  scenario::Scenario s;
  s.add_faults()->mutable_pause()->set_duration("soon");
  EXPECT_EQ(FaultPlanFromProto(s).status().message().substr(0, 26), "faults[0].pause.duration: ");
  s.clear_faults();
  s.mutable_nemesis()->add_rates()->set_kind("meteor");
  EXPECT_EQ(FaultPlanFromProto(s).status().message().substr(0, 50),
            "nemesis.rates[0].kind: unknown fault kind \"meteor\"");
}

TEST(FaultPlanProtoTest, TheFaultKindTableIsTheSchemasFaultKindOneofInOrder) {
  const auto* oneof = scenario::Fault::descriptor()->FindOneofByName("kind");
  ASSERT_NE(oneof, nullptr);
  ASSERT_EQ(static_cast<size_t>(oneof->field_count()), faults::kFaultKindCount);
  for (int i = 0; i < oneof->field_count(); ++i) {
    EXPECT_EQ(std::string(faults::kFaultKinds[static_cast<size_t>(i)].name),
              oneof->field(i)->name());
  }
}

}  // namespace
}  // namespace faultline::scenarios
