#include "search/harness.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

namespace faultline::harness {
namespace {

namespace proto = ::faultline::scenario;

search::GeneratedCase WithOptions(search::GeneratedCase c, const Options& options) {
  if (!options.modes.empty()) {
    c.checkpointing.mode =
        static_cast<uint32_t>(options.modes[c.checkpointing.mode % options.modes.size()]);
  }
  return c;
}

void AddSwitches(const Options& options, proto::Scenario* s) {
  for (const std::string& name : options.teaching_switches) s->add_teaching_switches(name);
}

std::string ReproducerDir(const Options& options) {
  if (!options.reproducer_dir.empty()) return options.reproducer_dir;
  const char* env = std::getenv("FAULTLINE_REPRODUCER_DIR");
  return env != nullptr && *env != '\0' ? env : "faultline-repro";
}

CaseResult Judge(const proto::Scenario& spec, const Result<scenarios::RunReport>& run,
                 const Options& options, bool own_job) {
  CaseResult result;
  result.scenario_text = search::ToTextproto(spec);
  result.holds = Holds(run, &result.failure);
  if (run.ok()) result.report = *run;
  if (result.holds) return result;
  const std::string dir = ReproducerDir(options);
  const std::string file = dir + "/" + spec.name() + ".textproto";
  result.replay =
      own_job ? "faultline run " + file + " --seed " + std::to_string(spec.seed())
              : "scenarios::RunJob(your_job, *scenarios::LoadScenarioFile(\"" + file + "\"), {})";
  result.reproducer = WriteReproducer(dir, spec, result.failure, result.replay);
  return result;
}

}  // namespace

bool Holds(const Result<scenarios::RunReport>& run, std::string* why) {
  if (!run.ok()) {
    *why = "ERROR: " + run.status().ToString();
    return false;
  }
  const scenarios::RunReport& r = *run;
  switch (r.outcome) {
    case scenarios::RunReport::Outcome::kPass:
      return true;
    case scenarios::RunReport::Outcome::kViolation:
      *why = "VIOLATION of " + r.outcome_detail;
      return false;
    case scenarios::RunReport::Outcome::kInconclusive:
      if (r.unexplained.empty()) return true;
      *why = "INCONCLUSIVE, not explained by a planned fault: " + r.outcome_detail;
      return false;
  }
  return false;
}

proto::Scenario ScenarioForCase(const search::GeneratedCase& c, const Options& options) {
  proto::Scenario s = search::ToScenario(WithOptions(c, options), options.name);
  AddSwitches(options, &s);
  return s;
}

proto::Scenario ScenarioForJob(const engine::JobGraph& job, const search::GeneratedCase& c,
                               const Options& options) {
  // Faults and triggers name the job's source and sink; the scenario's own job (which the
  // loader validates them against, and whose source log the job reads) gets their names, their
  // parallelism and the sink's kind, so its default checkers are the job's.
  const engine::OperatorSpec* source = nullptr;
  const engine::OperatorSpec* sink = nullptr;
  for (const engine::OperatorSpec& op : job.operators) {
    if (op.kind == engine::OperatorKind::kSource && source == nullptr) source = &op;
    if (op.kind == engine::OperatorKind::kSink) sink = &op;
  }
  search::GeneratedCase g = WithOptions(c, options);
  std::vector<search::FaultTarget> targets;
  if (source != nullptr) {
    g.job.source_parallelism = std::max<uint32_t>(source->parallelism, 1);
    targets.push_back({source->name, g.job.source_parallelism});
  }
  if (sink != nullptr) {
    g.job.sink_parallelism = std::max<uint32_t>(sink->parallelism, 1);
    g.job.sink_kind = static_cast<uint32_t>(sink->sink.kind);
    targets.push_back({sink->name, g.job.sink_parallelism});
  }
  if (targets.empty()) return search::ToScenario(g, options.name);
  proto::Scenario s = search::ToScenario(g, options.name, targets);
  proto::Job* own = s.mutable_job();
  for (proto::Operator& op : *own->mutable_operators()) {
    for (const search::FaultTarget& t : targets) {
      if (op.name() == t.name) op.set_name(op.name() + "_generated");
    }
  }
  if (source != nullptr) own->mutable_operators(0)->set_name(source->name);
  if (sink != nullptr) own->mutable_operators(own->operators_size() - 1)->set_name(sink->name);
  AddSwitches(options, &s);
  return s;
}

CaseResult CheckCase(const search::GeneratedCase& c, const Options& options) {
  const proto::Scenario spec = ScenarioForCase(c, options);
  auto scenario = scenarios::ParseScenario(search::ToTextproto(spec), "case.textproto");
  if (!scenario.ok()) return Judge(spec, scenario.status(), options, true);
  return Judge(spec, scenarios::RunScenario(*scenario, {}), options, true);
}

CaseResult CheckJobCase(const engine::JobGraph& job, const search::GeneratedCase& c,
                        const Options& options) {
  const proto::Scenario spec = ScenarioForJob(job, c, options);
  auto scenario = scenarios::ParseScenario(search::ToTextproto(spec), "case.textproto");
  if (!scenario.ok()) return Judge(spec, scenario.status(), options, false);
  // A source without a record cost of its own emits at the generated workload's rate (else it
  // would emit everything at once, before any checkpoint or planned fault).
  engine::JobGraph paced = job;
  for (engine::OperatorSpec& op : paced.operators) {
    if (op.kind != engine::OperatorKind::kSource || op.record_cost != Duration::Zero()) continue;
    if (auto cost = scenarios::ParseDuration(spec.job().operators(0).record_cost()); cost.ok()) {
      op.record_cost = *cost;
    }
  }
  return Judge(spec, scenarios::RunJob(paced, *scenario, {}), options, false);
}

Summary CheckJobUnderFaults(const engine::JobGraph& job, const Options& options) {
  Summary summary;
  for (uint32_t i = 0; i < options.cases; ++i) {
    const uint64_t seed = options.first_seed + i;
    Options named = options;
    named.name = options.name + "-" + std::to_string(seed);
    CaseResult r = CheckJobCase(job, search::GenerateCase(seed, options.generate), named);
    ++summary.cases;
    if (!r.holds) {
      r.failure = "seed " + std::to_string(seed) + ": " + r.failure;
      summary.failures.push_back(std::move(r));
    } else if (r.report.outcome == scenarios::RunReport::Outcome::kInconclusive) {
      ++summary.inconclusive_explained;
    } else {
      ++summary.passed;
    }
  }
  return summary;
}

std::string Summary::Describe() const {
  std::string out = std::to_string(cases) + " generated cases: " + std::to_string(passed) +
                    " passed, " + std::to_string(inconclusive_explained) +
                    " inconclusive (explained by a planned fault), " +
                    std::to_string(failures.size()) + " failed";
  for (const CaseResult& f : failures) {
    out += "\n  " + f.failure;
    if (!f.reproducer.empty()) out += "\n    written to " + f.reproducer;
    if (!f.replay.empty()) out += "\n    replay: " + f.replay;
  }
  return out;
}

std::string WriteReproducer(const std::string& dir, const proto::Scenario& s,
                            const std::string& failure, const std::string& replay) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "";
  const std::string path = dir + "/" + s.name() + ".textproto";
  std::ofstream out(path);
  if (!out) return "";
  out << "# A generated case that breaks the property: " << failure << "\n"
      << "# Replay: " << replay << "\n"
      << search::ToTextproto(s);
  return out ? path : "";
}

}  // namespace faultline::harness
