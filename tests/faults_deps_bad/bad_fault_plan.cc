// The must-fail twin of check_faults_deps.sh: a "fault library" that reads the scenario schema
// directly, as faults/fault_runner.cc once did. Each of the script's three checks refuses it.
#include <string>

#include "scenarios/scenario.pb.h"

namespace faultline::faults_deps_bad {

std::string FirstFaultName(const std::string& text) {
  scenario::Scenario scenario;
  if (!scenario.ParseFromString(text) || scenario.faults_size() == 0) return {};
  return scenario.faults(0).name();
}

}  // namespace faultline::faults_deps_bad
