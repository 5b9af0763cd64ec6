// The loader's validation passes, one per concern, in the order ValidateAll runs them
// (scenarios/loader.cc). Each fills its part of Resolved and answers the first issue it finds.
#pragma once

#include "base/status.h"
#include "engine/api/job.h"
#include "scenarios/validation.h"

namespace faultline::scenarios::internal {

// validate_job.cc: the job's operators; BuildGraph converts a job that validated.
Check ValidateJob(const proto::Scenario& scenario, JobInfo* info);
Result<engine::JobGraph> BuildGraph(const proto::Scenario& scenario, const JobInfo& info);

// validate_world.cc
Check ValidateCluster(const proto::Scenario& s, Resolved* r);
Check ValidateNetwork(const proto::Scenario& s, Resolved* r);
Check ValidateStorage(const proto::Scenario& s, Resolved* r);
Check ValidateCheckpointing(const proto::Scenario& s, Resolved* r);
Check ValidateRestart(const proto::Scenario& s, Resolved* r);
Check ValidateSwitches(const proto::Scenario& s, Resolved* r);

// checkers_list.cc: `checkers` and `expect`.
Check ValidateCheckers(const proto::Scenario& s, const Resolved& r);

// validate_faults.cc: `faults` and `nemesis` (needs the job graph and plan resolved).
Check ValidateFaults(const proto::Scenario& s, const Resolved& r);

// vary.cc: `vary` (each candidate put in place alone must validate).
Check ValidateVary(const proto::Scenario& s);

}  // namespace faultline::scenarios::internal
