// The checkers of a scenario, kept in one place: the known ids, the defaults of each mode, and
// the validation of `checkers` and `expect`.
#include <algorithm>
#include <set>

#include "base/text.h"
#include "scenarios/loader.h"
#include "scenarios/passes.h"

namespace faultline::scenarios {

const std::vector<std::string_view>& KnownCheckers() {
  static const std::vector<std::string_view> kCheckers = {"EO-OUT", "EO-CUT", "AL-LOSS", "DUR",
                                                          "REC",    "TXN",    "LIVE",    "DET"};
  return kCheckers;
}

std::vector<std::string> EnabledCheckers(const proto::Scenario& scenario) {
  std::vector<std::string> out;
  if (scenario.checkers_size() > 0) {
    for (const std::string& c : scenario.checkers()) out.push_back(c);
    return out;
  }
  const proto::Checkpointing& c = scenario.checkpointing();
  if (c.mode() == proto::Checkpointing::AT_LEAST_ONCE) {
    out.push_back("AL-LOSS");
  } else {
    out.push_back("EO-OUT");
    out.push_back("EO-CUT");
  }
  out.push_back("DUR");
  out.push_back("REC");
  const auto& ops = scenario.job().operators();
  if (!ops.empty() && ops.rbegin()->kind_case() == proto::Operator::kSink &&
      ops.rbegin()->sink().kind() == proto::Sink::TWO_PHASE_COMMIT) {
    out.push_back("TXN");
  }
  out.push_back("LIVE");
  return out;
}

namespace internal {
namespace {

bool ExactlyOnce(const Resolved& r) {
  return r.config.checkpoints.mode != engine::CheckpointMode::kAtLeastOnce;
}

}  // namespace

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
    if ((name == "EO-OUT" || name == "EO-CUT") && !ExactlyOnce(r)) {
      return Fail(path, name +
                            " judges exactly-once runs, and checkpointing.mode is "
                            "AT_LEAST_ONCE (use AL-LOSS)");
    }
    if (name == "TXN" && r.job.sink_kind != proto::Sink::TWO_PHASE_COMMIT) {
      return Fail(path, "TXN judges two-phase-commit sinks, and the job's sink is not one");
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
