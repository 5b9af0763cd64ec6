// Internal to search/generators.cc: the fault plan and nemesis of a generated case, and the
// settings the conversions share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "search/generators.h"

namespace faultline::search {

std::string Ms(uint64_t ms);                  // "250ms"; "0" for zero
uint32_t IntervalMs(const GeneratedCase& c);  // the checkpoint interval
uint32_t RunLimitMs(const GeneratedCase& c);  // the run limit

// Appends the case's fault plan (entries named "f<i>-<kind>") and its nemesis.
void AddFaults(const GeneratedCase& c, const std::vector<FaultTarget>& targets, proto::Scenario* s);
void AddNemesis(const GeneratedCase& c, proto::Scenario* s);
// Appends the case's savepoint (an entry named "savepoint"), when it has one that applies.
void AddSavepoint(const GeneratedCase& c, const std::vector<FaultTarget>& targets,
                  proto::Scenario* s);
// Appends the case's rescale (an entry named "rescale"), when it has one that applies to `s`.
void AddRescale(const GeneratedCase& c, const std::vector<FaultTarget>& targets,
                proto::Scenario* s);

// "crash_task_manager@1.2s, blob_outage@checkpoint-triggered"
std::string DescribeFaults(const GeneratedCase& c);

}  // namespace faultline::search
