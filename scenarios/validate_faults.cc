// The fault plan of a scenario: converted (scenarios/fault_plan_proto.h) and validated by the
// fault library (faults::CheckEntry, CheckNemesis) against the job and world, entry by entry.
#include "faults/fault_plan.h"
#include "faults/fault_targets.h"
#include "scenarios/fault_plan_proto.h"
#include "scenarios/passes.h"

namespace faultline::scenarios::internal {
namespace {

Check FromPlanIssue(const std::optional<faults::PlanIssue>& issue) {
  if (!issue) return std::nullopt;
  return Fail(ParsePath(issue->path), issue->message);
}

}  // namespace

Check ValidateFaults(const proto::Scenario& s, const Resolved& r) {
  faults::FaultTargets targets =
      faults::FaultTargets::OfPlan(r.graph, r.plan, r.world.task_managers);
  targets.run_limit = r.run_limit;
  for (int i = 0; i < s.faults_size(); ++i) {
    faults::PlanEntry entry;
    FL_RETURN_IF_ISSUE(FromPlanIssue(EntryFromProto(s.faults(i), i, &entry)));
    FL_RETURN_IF_ISSUE(FromPlanIssue(faults::CheckEntry(entry, static_cast<size_t>(i), targets)));
  }
  if (!s.has_nemesis()) return std::nullopt;
  faults::NemesisOptions nemesis;
  FL_RETURN_IF_ISSUE(FromPlanIssue(NemesisFromProto(s.nemesis(), &nemesis)));
  return FromPlanIssue(faults::CheckNemesis(nemesis, targets));
}

}  // namespace faultline::scenarios::internal
