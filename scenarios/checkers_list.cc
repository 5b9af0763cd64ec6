// The checkers of a scenario: the known ids, the defaults of each mode, and the validation of
// `checkers` and `expect`, all read from the one checker registry (checkers/registry.h).
#include <algorithm>
#include <set>

#include "base/text.h"
#include "checkers/registry.h"
#include "scenarios/loader.h"
#include "scenarios/passes.h"

namespace faultline::scenarios {

const std::vector<std::string_view>& KnownCheckers() {
  static const std::vector<std::string_view> kKnown = [] {
    std::vector<std::string_view> names;
    for (const checkers::CheckerInfo& info : checkers::kCheckers) names.push_back(info.name);
    return names;
  }();
  return kKnown;
}

namespace {

engine::CheckpointMode ModeOf(const proto::Scenario& scenario) {
  switch (scenario.checkpointing().mode()) {
    case proto::Checkpointing::UNALIGNED:
      return engine::CheckpointMode::kUnaligned;
    case proto::Checkpointing::AT_LEAST_ONCE:
      return engine::CheckpointMode::kAtLeastOnce;
    default:
      return engine::CheckpointMode::kAligned;
  }
}

bool HasTwoPhaseSink(const proto::Scenario& scenario) {
  const auto& ops = scenario.job().operators();
  return !ops.empty() && ops.rbegin()->kind_case() == proto::Operator::kSink &&
         ops.rbegin()->sink().kind() == proto::Sink::TWO_PHASE_COMMIT;
}

}  // namespace

std::vector<std::string> EnabledCheckers(const proto::Scenario& scenario) {
  std::vector<std::string> out;
  if (scenario.checkers_size() > 0) {
    for (const std::string& c : scenario.checkers()) out.push_back(c);
    return out;
  }
  return checkers::DefaultCheckers(ModeOf(scenario), HasTwoPhaseSink(scenario));
}

std::vector<std::string> CheckerWarnings(const proto::Scenario& scenario) {
  if (scenario.checkers_size() == 0) return {};
  const bool at_least_once = ModeOf(scenario) == engine::CheckpointMode::kAtLeastOnce;
  const std::string_view promise = at_least_once ? "AL-LOSS" : "EO-OUT";
  for (const std::string& c : scenario.checkers()) {
    if (c == promise) return {};
  }
  return {"the scenario's checkers list leaves out " + std::string(promise) + ": the " +
          (at_least_once ? std::string("at-least-once") : std::string("exactly-once")) +
          " promise for the committed output is not judged, and a PASS says nothing about it"};
}

namespace internal {

Check ValidateCheckers(const proto::Scenario& s, const Resolved& r) {
  std::vector<std::string_view> known = KnownCheckers();
  std::set<std::string> seen;
  for (int i = 0; i < s.checkers_size(); ++i) {
    const std::string& name = s.checkers(i);
    const Path path{{"checkers", i}};
    if (!Contains(known, name)) {
      return Fail(path, "unknown checker " + Quote(name) + " (known: " + Join(known) + ")");
    }
    if (!seen.insert(name).second) return Fail(path, Quote(name) + " is listed twice");
    // What the registry says the checker can judge (checkers/registry.h).
    const checkers::CheckerInfo& info = *checkers::FindChecker(name);
    if ((info.allowed_modes & checkers::MaskOf(r.config.checkpoints.mode)) == 0) {
      const bool exactly_once_only = info.allowed_modes == checkers::kExactlyOnceModes;
      return Fail(path, name +
                            (exactly_once_only ? " judges exactly-once runs, and "
                                               : " does not judge these runs: ") +
                            "checkpointing.mode is " +
                            proto::Checkpointing::Mode_Name(s.checkpointing().mode()) +
                            (exactly_once_only ? " (use AL-LOSS)" : ""));
    }
    if (info.needs_two_phase_sink && r.job.sink_kind != proto::Sink::TWO_PHASE_COMMIT) {
      return Fail(path, name + " judges two-phase-commit sinks, and the job's sink is not one");
    }
  }
  const proto::Expectation& e = s.expect();
  const Path path{{"expect", -1}};
  if (!proto::Expectation::Verdict_IsValid(e.verdict())) {
    return Fail(At(path, "verdict"), "unknown value " + std::to_string(e.verdict()));
  }
  if (e.verdict() == proto::Expectation::VIOLATION) {
    if (e.checker().empty()) {
      return Fail(At(path, "checker"), "missing: a VIOLATION names the checker that reports it");
    }
    if (!Contains(known, e.checker())) {
      return Fail(At(path, "checker"),
                  "unknown checker " + Quote(e.checker()) + " (known: " + Join(known) + ")");
    }
    const std::vector<std::string> enabled = EnabledCheckers(s);
    if (std::find(enabled.begin(), enabled.end(), e.checker()) == enabled.end()) {
      std::string list;
      for (const std::string& c : enabled) list += (list.empty() ? "" : ", ") + c;
      return Fail(At(path, "checker"), e.checker() + " is not enabled (enabled: " + list + ")");
    }
  } else if (!e.checker().empty()) {
    return Fail(At(path, "checker"), "only a VIOLATION names a checker");
  }
  return std::nullopt;
}

}  // namespace internal
}  // namespace faultline::scenarios
