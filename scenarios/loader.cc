#include "scenarios/loader.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "base/rng.h"
#include "base/text.h"
#include "engine/state/rocksdb/rocksdb_state_backend.h"
#include "engine/state/state_backend.h"
#include "faults/fault_plan.h"
#include "faults/fault_targets.h"
#include "scenarios/passes.h"
#include "scenarios/syntax.h"
#include "scenarios/validation.h"

namespace faultline::scenarios {

using internal::Check;
using internal::DurationField;
using internal::ExplainSyntaxError;
using internal::Fail;
using internal::FirstErrorCollector;
using internal::FormatPath;
using internal::kDefaultKeys;
using internal::kDefaultModulus;
using internal::kDefaultPartitions;
using internal::kDefaultRecordsPerPartition;
using internal::kDefaultRunLimit;
using internal::kMaxFileBytes;
using internal::Locate;
using internal::Location;
using internal::Position;
using internal::Resolved;
using internal::Sign;
using internal::ValidName;

namespace {

namespace pb = ::google::protobuf;

// The whole validation, keeping what it resolved.
// The factory of a state backend a resume names (faults::kResumeBackends).
engine::StateBackendFactory BackendFactory(std::string_view name) {
  if (name == "heap") {
    return [](const engine::StateBackendSetup& setup)
               -> Result<std::unique_ptr<engine::KeyedStateBackend>> {
      return engine::NewHeapStateBackend(setup.key_groups);
    };
  }
  engine::RocksDbBackendOptions rocksdb;
  rocksdb.incremental = name == "rocksdb-incremental";
  return engine::RocksDbStateBackends(rocksdb);
}

// Savepoints: each resume's plan generations (at every parallelism the job may run then, on
// every backend a resume may switch it to), prepared up front as rescales' are.
Check PrepareResumes(const proto::Scenario& s, Resolved* r) {
  std::vector<uint32_t> parallelisms;  // explicit ones (0 stands for the job as submitted)
  std::set<std::string> backends = {""};
  bool resumes = false;
  for (int i = 0; i < s.faults_size(); ++i) {
    if (s.faults(i).has_rescale()) {
      parallelisms.push_back(static_cast<uint32_t>(s.faults(i).rescale().parallelism()));
    }
    if (!s.faults(i).has_savepoint()) continue;
    const proto::Savepoint& sp = s.faults(i).savepoint();
    const internal::Path where = {{"faults", i}, {"savepoint", -1}};
    if (r->config.checkpoints.mode == engine::CheckpointMode::kUnaligned) {
      return Fail(where,
                  "savepoints are aligned, and this engine does not take an aligned snapshot of "
                  "a job that checkpoints unaligned; use ALIGNED or AT_LEAST_ONCE");
    }
    if (!sp.resume()) {
      const char* stray = sp.parallelism() != 0                         ? "parallelism"
                          : sp.backend() != proto::Savepoint::UNCHANGED ? "backend"
                          : sp.claim()                                  ? "claim"
                                                                        : nullptr;
      if (stray != nullptr) {
        return Fail({{"faults", i}, {"savepoint", -1}, {stray, -1}},
                    "only a resume uses it: set resume: true");
      }
      continue;
    }
    resumes = true;
    if (sp.parallelism() != 0) {
      const internal::Path at = {{"faults", i}, {"savepoint", -1}, {"parallelism", -1}};
      Result<engine::JobGraph> rescaled = engine::RescaleJob(
          r->graph, engine::Rescale{.parallelism = static_cast<uint32_t>(sp.parallelism())});
      if (!rescaled.ok()) return Fail(at, std::string(rescaled.status().message()));
      parallelisms.push_back(static_cast<uint32_t>(sp.parallelism()));
    }
    std::string backend(faults::kResumeBackends[static_cast<size_t>(sp.backend())]);
    if (backend == r->config.state_backend_name) backend.clear();
    backends.insert(backend);
  }
  if (!resumes) return std::nullopt;
  parallelisms.push_back(0);
  std::sort(parallelisms.begin(), parallelisms.end());
  parallelisms.erase(std::unique(parallelisms.begin(), parallelisms.end()), parallelisms.end());
  for (const std::string& backend : backends) {
    for (uint32_t p : parallelisms) {
      if (p == 0 && backend.empty()) continue;  // the job as submitted
      engine::Rescale generation{.parallelism = p, .operators = {}, .backend = backend};
      if (!backend.empty()) generation.state_backend = BackendFactory(backend);
      r->world.rescales.push_back(std::move(generation));
    }
  }
  return std::nullopt;
}

Check ValidateAll(const proto::Scenario& s, Resolved* r) {
  if (s.name().empty()) return Fail({{"name", -1}}, "missing: a scenario needs a name");
  if (!ValidName(s.name())) {
    return Fail({{"name", -1}}, Quote(s.name()) + " is not a name (1 to 64 of A-Z a-z 0-9 _ - .)");
  }
  FL_RETURN_IF_ISSUE(DurationField({{"run_limit", -1}}, s.run_limit(), kDefaultRunLimit,
                                   Sign::kPositive, &r->run_limit));
  r->world.world.seed = s.has_seed() ? s.seed() : 1;
  FL_RETURN_IF_ISSUE(ValidateJob(s, &r->job));
  r->world.source_partitions = r->job.partitions;
  FL_RETURN_IF_ISSUE(ValidateCluster(s, r));
  FL_RETURN_IF_ISSUE(ValidateNetwork(s, r));
  FL_RETURN_IF_ISSUE(ValidateStorage(s, r));
  FL_RETURN_IF_ISSUE(ValidateCheckpointing(s, r));
  FL_RETURN_IF_ISSUE(ValidateRestart(s, r));
  FL_RETURN_IF_ISSUE(ValidateSwitches(s, r));
  FL_RETURN_IF_ISSUE(ValidateCheckers(s, *r));

  Result<engine::JobGraph> graph = BuildGraph(s, r->job);
  if (!graph.ok()) return Fail({{"job", -1}}, std::string(graph.status().message()));
  r->graph = std::move(graph).value();
  std::vector<runtime::NodeId> tms;
  for (uint32_t i = 1; i <= r->world.task_managers; ++i) tms.push_back(i);
  Result<engine::ExecutionPlan> plan = engine::BuildExecutionPlan(r->graph, tms);
  if (!plan.ok()) return Fail({{"job", -1}}, std::string(plan.status().message()));
  r->plan = std::move(plan).value();

  FL_RETURN_IF_ISSUE(ValidateFaults(s, *r));
  // Each rescale the plan gives the job is a plan generation, prepared up front.
  for (int i = 0; i < s.faults_size(); ++i) {
    if (!s.faults(i).has_rescale()) continue;
    const internal::Path where = {{"faults", i}, {"rescale", -1}, {"parallelism", -1}};
    const engine::Rescale rescale{
        .parallelism = static_cast<uint32_t>(s.faults(i).rescale().parallelism()), .operators = {}};
    if (r->config.checkpoints.mode == engine::CheckpointMode::kUnaligned) {
      return Fail(where,
                  "rescaling a job with unaligned checkpoints is not built yet (its channel "
                  "state cannot be redistributed); use ALIGNED or AT_LEAST_ONCE");
    }
    Result<engine::JobGraph> rescaled = engine::RescaleJob(r->graph, rescale);
    if (!rescaled.ok()) return Fail(where, std::string(rescaled.status().message()));
    r->world.rescales.push_back(rescale);
  }
  FL_RETURN_IF_ISSUE(PrepareResumes(s, r));
  FL_RETURN_IF_ISSUE(internal::ValidateVary(s));
  return std::nullopt;
}

Result<Resolved> Resolve(const proto::Scenario& s) {
  Resolved r;
  if (Check issue = ValidateAll(s, &r)) {
    return InvalidArgumentError(FormatPath(issue->path) + ": " + issue->message);
  }
  return r;
}

}  // namespace

std::optional<uint32_t> ResolveSubtask(const engine::JobGraph& job,
                                       const engine::ExecutionPlan& plan, std::string_view name) {
  return faults::ResolveSubtask(job, plan, name);
}

Status ValidateScenario(const proto::Scenario& scenario) {
  Result<Resolved> r = Resolve(scenario);
  return r.ok() ? Status::Ok() : r.status();
}

Result<Scenario> ParseScenario(std::string_view text, std::string_view filename) {
  if (text.size() > kMaxFileBytes) {
    return InvalidArgumentError(std::string(filename) + ": larger than 1 MiB");
  }
  Scenario scenario;
  scenario.path = std::string(filename);
  FirstErrorCollector errors;
  pb::TextFormat::ParseInfoTree tree;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  const std::string input(text);
  if (!parser.ParseFromString(input, &scenario.spec) || errors.found()) {
    if (!errors.found()) return InvalidArgumentError(std::string(filename) + ": does not parse");
    Position at{errors.line(), errors.column()};
    const std::string what = ExplainSyntaxError(text, errors.message(), &at);
    return InvalidArgumentError(Location(filename, at.line, at.column) + ": " + what);
  }
  Resolved resolved;
  if (Check issue = ValidateAll(scenario.spec, &resolved)) {
    const std::optional<pb::TextFormat::ParseLocation> loc = Locate(tree, issue->path);
    const std::string where =
        loc ? Location(filename, loc->line, loc->column) : std::string(filename);
    return InvalidArgumentError(where + ": " + FormatPath(issue->path) + ": " + issue->message);
  }
  return scenario;
}

Result<Scenario> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(path + ": cannot be read");
  std::string text;
  char buffer[4096];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) return InvalidArgumentError(path + ": larger than 1 MiB");
  }
  if (in.bad()) return NotFoundError(path + ": cannot be read");
  return ParseScenario(text, path);
}

Result<engine::JobGraph> ToJobGraph(const proto::Scenario& scenario) {
  FL_ASSIGN_OR_RETURN(Resolved r, Resolve(scenario));
  return std::move(r.graph);
}

Result<engine::EngineConfig> ToEngineConfig(const proto::Scenario& scenario) {
  FL_ASSIGN_OR_RETURN(Resolved r, Resolve(scenario));
  return r.config;
}

Result<sim::JobWorldOptions> ToJobWorldOptions(const proto::Scenario& scenario) {
  FL_ASSIGN_OR_RETURN(Resolved r, Resolve(scenario));
  return r.world;
}

Result<Duration> RunLimit(const proto::Scenario& scenario) {
  Duration limit;
  if (Check issue = DurationField({{"run_limit", -1}}, scenario.run_limit(), kDefaultRunLimit,
                                  Sign::kPositive, &limit)) {
    return InvalidArgumentError(FormatPath(issue->path) + ": " + issue->message);
  }
  return limit;
}

std::vector<std::vector<engine::Record>> GenerateSourceLog(const proto::Scenario& scenario) {
  if (!ValidateScenario(scenario).ok()) return {};
  const proto::Source& s = scenario.job().operators(0).source();
  const uint32_t partitions = s.has_partitions() ? s.partitions() : kDefaultPartitions;
  const uint32_t per =
      s.has_records_per_partition() ? s.records_per_partition() : kDefaultRecordsPerPartition;
  const uint32_t keys = s.has_keys() ? s.keys() : kDefaultKeys;
  const uint64_t data_seed = s.has_data_seed() ? s.data_seed() : 1;
  const uint32_t modulus = s.has_modulus() ? s.modulus() : kDefaultModulus;
  const Rng root(data_seed);
  const ZipfDistribution zipf(keys, 1.0);
  std::vector<std::vector<engine::Record>> log(partitions);
  for (uint32_t p = 0; p < partitions; ++p) {
    Rng key_rng = root.Fork("keys").Fork(p);
    Rng value_rng = root.Fork("values").Fork(p);
    std::vector<engine::Record>& records = log[p];
    records.reserve(per);
    for (uint32_t i = 0; i < per; ++i) {
      uint64_t key = 0;
      switch (s.key_pattern()) {
        case proto::Source::UNIFORM:
          key = key_rng.UniformU64(keys);
          break;
        case proto::Source::ZIPF:
          key = zipf.Sample(key_rng);
          break;
        default:
          key = (uint64_t{p} * 7919 + uint64_t{i} * 31) % keys;
          break;
      }
      int64_t value = 1;
      switch (s.value_pattern()) {
        case proto::Source::SEQUENCE:
          value = int64_t{i} + 1;
          break;
        case proto::Source::CYCLE:
          value = int64_t{i % modulus} + 1;
          break;
        case proto::Source::UNIFORM_RANGE:
          value = value_rng.UniformInt(s.min(), s.max());
          break;
        default:
          value = s.has_value() ? s.value() : 1;
          break;
      }
      records.push_back(engine::Record{"k" + std::to_string(key), value, {}});
    }
  }
  return log;
}

}  // namespace faultline::scenarios
