// The scenario schema's fault plan (`faults` entries and the `nemesis` block of
// scenarios/scenario.proto) to a faults::FaultPlan and back. The conversion reads and writes each
// kind's fields through its descriptor's field list (faults/fault_descriptors.h) and protobuf
// reflection: the schema message of kind "blob_latency" is the Fault oneof field of that name, and
// its fields carry the descriptor's field names. A new fault kind needs nothing here.
//
// From the schema, durations are parsed (errors name the field, "faults[0].pause.duration: ...")
// but nothing else is checked: faults::CheckPlan validates a plan. Back to the schema, durations
// are written exactly ("1500ms"), so plan -> textproto -> plan gives the same plan.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "faults/fault_plan.h"
#include "scenarios/scenario.pb.h"

namespace faultline::scenarios {

// faults[index] of a scenario. An issue for a fault without a kind or an unparsable duration.
std::optional<faults::PlanIssue> EntryFromProto(const scenario::Fault& fault, int index,
                                                faults::PlanEntry* entry);
// The nemesis block. An issue for an unknown fault kind or an unparsable duration.
std::optional<faults::PlanIssue> NemesisFromProto(const scenario::Nemesis& nemesis,
                                                  faults::NemesisOptions* options);
// The scenario's whole plan, converted (not validated): INVALID_ARGUMENT "<path>: <what>".
Result<faults::FaultPlan> FaultPlanFromProto(const scenario::Scenario& scenario);

// The plan as the schema's `faults` and `nemesis` fields of `scenario` (others untouched).
void FaultPlanToProto(const faults::FaultPlan& plan, scenario::Scenario* scenario);
// The plan as scenario text: its `faults { ... }` blocks, then its `nemesis { ... }` block.
std::string FaultPlanToTextproto(const faults::FaultPlan& plan);

}  // namespace faultline::scenarios
