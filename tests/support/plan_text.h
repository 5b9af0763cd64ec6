// Fault plans written as scenario text in tests: the `faults` and `nemesis` blocks of a
// scenario, converted as the loader does (scenarios/fault_plan_proto.h).
#pragma once

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "faults/fault_plan.h"
#include "scenarios/fault_plan_proto.h"

namespace faultline::testing_support {

// The plan of `text` (scenario text); an empty plan, and a test failure, when it does not parse
// or convert.
inline faults::FaultPlan PlanFromText(const std::string& text) {
  scenario::Scenario s;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &s)) << text;
  Result<faults::FaultPlan> plan = scenarios::FaultPlanFromProto(s);
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  return plan.ok() ? std::move(plan).value() : faults::FaultPlan{};
}

}  // namespace faultline::testing_support
