#include "checkers/registry.h"

namespace faultline::checkers {

const CheckerInfo* FindChecker(std::string_view name) {
  for (const CheckerInfo& info : kCheckers) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string CheckerNames() {
  std::string out;
  for (const CheckerInfo& info : kCheckers) {
    if (!out.empty()) out += ", ";
    out += info.name;
  }
  return out;
}

std::vector<std::string> DefaultCheckers(engine::CheckpointMode mode, bool has_two_phase_sink) {
  std::vector<std::string> out;
  for (const CheckerInfo& info : kCheckers) {
    if ((info.default_modes & MaskOf(mode)) == 0) continue;
    if (info.needs_two_phase_sink && !has_two_phase_sink) continue;
    out.emplace_back(info.name);
  }
  return out;
}

std::string WhyNotApplicable(const CheckerInfo& info, engine::CheckpointMode mode,
                             bool has_two_phase_sink) {
  if ((info.allowed_modes & MaskOf(mode)) == 0) {
    return std::string(info.name) + " does not judge " +
           std::string(engine::CheckpointModeName(mode)) + " runs (" + std::string(info.summary) +
           ")";
  }
  if (info.needs_two_phase_sink && !has_two_phase_sink) {
    return std::string(info.name) + " judges two-phase-commit sinks, and the job's sink is not one";
  }
  return {};
}

}  // namespace faultline::checkers
