#include "gui/core/session.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <utility>

#include "scenarios/loader.h"

namespace faultline::gui {
namespace {

std::string TextOf(const scenarios::proto::Scenario& spec) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(spec, &text);
  return text;
}

std::string DurationText(Duration d) {
  return std::to_string(d.nanos()) + "ns";
}

}  // namespace

Result<std::unique_ptr<Session>> Session::Open(const std::string& path,
                                               std::optional<uint64_t> seed,
                                               std::vector<std::string> switches) {
  FL_ASSIGN_OR_RETURN(scenarios::Scenario scenario, scenarios::LoadScenarioFile(path));
  auto session = std::unique_ptr<Session>(new Session());
  session->path_ = path;
  session->seed_ = seed.value_or(scenario.spec.has_seed() ? scenario.spec.seed() : 1);
  FL_ASSIGN_OR_RETURN(int id, session->Add(-1, Time::Zero(), "as written", std::move(scenario.spec),
                                           std::move(switches)));
  (void)id;
  return session;
}

Result<std::unique_ptr<Session>> Session::OpenExported(const std::string& dir) {
  const std::filesystem::path root(dir);
  const std::filesystem::path manifest_path = root / "run.json";
  std::ifstream in(manifest_path);
  if (!in) {
    return NotFoundError(dir + ": no run.json (a directory `faultline run --export DIR` wrote)");
  }
  const nlohmann::json manifest = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_object()) {
    return InvalidArgumentError(manifest_path.string() + ": not valid JSON");
  }
  if (manifest.value("format", "") != "faultline-run/1") {
    return InvalidArgumentError(manifest_path.string() +
                                ": format is not faultline-run/1 (written by another version?)");
  }
  if (!manifest.contains("seed") || !manifest["seed"].is_number_unsigned()) {
    return InvalidArgumentError(manifest_path.string() + ": seed missing or not a number");
  }
  std::vector<std::string> switches;
  if (manifest.contains("switches")) {
    if (!manifest["switches"].is_array()) {
      return InvalidArgumentError(manifest_path.string() + ": switches is not a list");
    }
    for (const auto& name : manifest["switches"]) {
      if (!name.is_string()) {
        return InvalidArgumentError(manifest_path.string() + ": a switch is not a name");
      }
      switches.push_back(name.get<std::string>());
    }
  }
  const std::string scenario =
      (root / manifest.value("scenario", std::string("scenario.textproto"))).string();
  FL_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                      Open(scenario, manifest["seed"].get<uint64_t>(), std::move(switches)));
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, session->branch(0).recording->report.trace_hash);
  const std::string exported = manifest.value("trace_hash", "");
  if (exported != hash) {
    session->note_ = "the replay's trace hash " + std::string(hash) +
                     " differs from the exported " + exported + " (exported by " +
                     manifest.value("build", std::string("?")) +
                     "): this build runs the scenario differently";
  }
  return session;
}

Result<int> Session::Add(int parent, Time at, std::string label, scenarios::proto::Scenario spec,
                         std::vector<std::string> switches) {
  // Validated as a file would be: an entry the person added that the loader refuses is an error.
  const std::string where = parent < 0 ? path_ : "branch " + std::to_string(size());
  FL_ASSIGN_OR_RETURN(scenarios::Scenario scenario, scenarios::ParseScenario(TextOf(spec), where));
  scenario.path = path_;
  scenarios::RunOptions options;
  options.seed = seed_;
  options.switches = switches;
  FL_ASSIGN_OR_RETURN(Recording recording, RecordRun(scenario, std::move(options)));
  auto b = std::make_unique<Branch>();
  b->id = size();
  b->parent = parent;
  b->at = at;
  b->label = std::move(label);
  b->spec = std::move(scenario.spec);
  b->switches = std::move(switches);
  b->recording = std::make_unique<Recording>(std::move(recording));
  b->timeline = std::make_unique<Timeline>(*b->recording);
  branches_.push_back(std::move(b));
  return branches_.back()->id;
}

Result<Recording> Session::CheckPrefix(int id, Time until) const {
  if (id < 0 || id >= size()) return InvalidArgumentError("no branch " + std::to_string(id));
  if (until <= Time::Zero()) return InvalidArgumentError("the run so far is empty at time zero");
  scenarios::proto::Scenario spec = branch(id).spec;
  spec.set_run_limit(DurationText(until - Time::Zero()));
  FL_ASSIGN_OR_RETURN(scenarios::Scenario scenario,
                      scenarios::ParseScenario(TextOf(spec), path_ + " (so far)"));
  scenario.path = path_;
  scenarios::RunOptions options;
  options.seed = seed_;
  options.switches = branch(id).switches;
  options.stop_at_limit = true;
  return RecordRun(scenario, std::move(options));
}

Result<int> Session::BranchWithFault(int from, Time at, scenarios::proto::Fault fault,
                                     std::string label) {
  if (from < 0 || from >= size()) return InvalidArgumentError("no branch " + std::to_string(from));
  const Branch& parent = branch(from);
  scenarios::proto::Scenario spec = parent.spec;
  if (fault.name().empty()) fault.set_name("gui-" + std::to_string(size()));
  fault.mutable_trigger()->set_at(DurationText(at - Time::Zero()));
  *spec.add_faults() = std::move(fault);
  return Add(from, at, std::move(label), std::move(spec), parent.switches);
}

Result<int> Session::BranchWithSwitch(int from, const std::string& name, bool on) {
  if (from < 0 || from >= size()) return InvalidArgumentError("no branch " + std::to_string(from));
  const Branch& parent = branch(from);
  std::vector<std::string> switches = parent.switches;
  std::erase(switches, name);
  if (on) switches.push_back(name);
  return Add(from, Time::Zero(), (on ? "switch on: " : "switch off: ") + name, parent.spec,
             std::move(switches));
}

Result<int> Session::BranchWithMode(int from, scenarios::proto::Checkpointing::Mode mode) {
  if (from < 0 || from >= size()) return InvalidArgumentError("no branch " + std::to_string(from));
  const Branch& parent = branch(from);
  scenarios::proto::Scenario spec = parent.spec;
  spec.mutable_checkpointing()->set_mode(mode);
  std::string name = scenarios::proto::Checkpointing::Mode_Name(mode);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](char c) { return c == '_' ? '-' : static_cast<char>(std::tolower(c)); });
  return Add(from, Time::Zero(), "checkpoints " + name, std::move(spec), parent.switches);
}

std::string Session::ScenarioText(int id) const {
  return TextOf(branch(id).spec);
}

std::string Session::ReproduceCommand(int id, const std::string& file) const {
  std::string command =
      "faultline run " + (id == 0 ? path_ : file) + " --seed " + std::to_string(seed_);
  for (const std::string& s : branch(id).switches) command += " --switch " + s;
  return command;
}

std::string Session::Reproducer(int id) const {
  if (id == 0) return ReproduceCommand(0) + "\n";
  return "# " + branch(id).label +
         "\n# Save this as branch.textproto, then: " + ReproduceCommand(id) + "\n" +
         ScenarioText(id);
}

scenarios::proto::Fault CrashTaskManagerFault(uint32_t node,
                                              std::optional<Duration> restart_after) {
  scenarios::proto::Fault f;
  f.mutable_crash_task_manager()->set_task_manager(node);
  if (restart_after) {
    f.mutable_crash_task_manager()->set_restart_after(DurationText(*restart_after));
  } else {
    f.mutable_crash_task_manager()->set_never_restart(true);
  }
  return f;
}

scenarios::proto::Fault CrashJobManagerFault(Duration restart_after) {
  scenarios::proto::Fault f;
  f.mutable_crash_job_manager()->set_restart_after(DurationText(restart_after));
  return f;
}

scenarios::proto::Fault FailTaskFault(const std::string& task) {
  scenarios::proto::Fault f;
  f.mutable_fail_task()->set_subtask(task);
  return f;
}

scenarios::proto::Fault BlobOutageFault(Duration duration) {
  scenarios::proto::Fault f;
  f.mutable_blob_outage()->set_duration(DurationText(duration));
  return f;
}

scenarios::proto::Fault PartitionFault(std::vector<uint32_t> side_a, std::vector<uint32_t> side_b,
                                       std::optional<Duration> heal_after) {
  scenarios::proto::Fault f;
  scenarios::proto::NetworkPartition& p = *f.mutable_partition();
  for (uint32_t n : side_a) p.add_side_a(n);
  for (uint32_t n : side_b) p.add_side_b(n);
  if (heal_after) p.set_heal_after(DurationText(*heal_after));
  return f;
}

scenarios::proto::Fault SlowLinkFault(uint32_t a, uint32_t b, Duration extra_latency,
                                      Duration duration) {
  scenarios::proto::Fault f;
  scenarios::proto::LatencySpike& spike = *f.mutable_latency_spike();
  spike.mutable_link()->set_a(a);
  spike.mutable_link()->set_b(b);
  spike.set_extra_latency(DurationText(extra_latency));
  spike.set_duration(DurationText(duration));
  return f;
}

}  // namespace faultline::gui
