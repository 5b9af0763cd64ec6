#include "search/minimize.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>

#include "base/assert.h"
#include "base/isolated.h"
#include "engine/api/record.h"
#include "faults/fault_plan.h"
#include "scenarios/fault_plan_proto.h"
#include "scenarios/runner.h"
#include "scenarios/soak.h"
#include "scenarios/vary.h"

namespace faultline::search {
namespace {

using scenarios::RunReport;
using Faults = std::vector<proto::Fault>;

// How one rerun ended: its failure group (empty: it did not fail) and hash.
struct Rerun {
  std::string group;
  std::string checker;  // the violated checker, for a violation
  uint64_t hash = 0;
  std::vector<faults::PlanEntry> nemesis_entries;
};

// Runs candidates, counting reruns against the budget.
class Tester {
 public:
  Tester(std::string path, const MinimizeOptions& options) : path_(std::move(path)), o_(options) {}

  bool exhausted() const { return reruns_ >= o_.max_reruns; }
  uint32_t reruns() const { return reruns_; }

  // nullopt when the candidate is not a valid scenario (no rerun spent) or the budget is gone
  // (`budgeted`: false runs the result once more whatever the budget, for its hash).
  std::optional<Rerun> Run(const proto::Scenario& spec, bool budgeted = true) {
    if ((budgeted && exhausted()) || !scenarios::ValidateScenario(spec).ok()) return std::nullopt;
    ++reruns_;
    if (!o_.isolate) return RunHere(spec);
    // In a worker process: a candidate that crashes fails as "CRASH: <its reason>".
    if (!worker_) {
      worker_ = std::make_unique<IsolatedWorker>([this](std::string_view request) {
        proto::Scenario candidate;
        if (!candidate.ParseFromArray(request.data(), static_cast<int>(request.size()))) {
          FL_UNREACHABLE("a candidate scenario that does not parse back");
        }
        return Encode(RunHere(candidate));
      });
    }
    const ChildOutcome o = worker_->Call(spec.SerializeAsString());
    if (o.completed) {
      if (std::optional<Rerun> r = Decode(o.payload)) return r;
    }
    Rerun crashed;
    crashed.group = "CRASH: " + o.end.Reason();
    return crashed;
  }

  // The candidate fails the way the original did.
  bool FailsSame(const proto::Scenario& spec, const std::string& group) {
    const std::optional<Rerun> r = Run(spec);
    return r && r->group == group;
  }

 private:
  Rerun RunHere(const proto::Scenario& spec) const {
    scenarios::RunOptions run;
    run.seed = o_.seed;
    run.switches = o_.switches;
    Result<RunReport> report = scenarios::RunScenario(scenarios::Scenario{path_, spec}, run);
    Rerun out;
    if (!report.ok()) {
      out.group = scenarios::ErrorGroupOf(report.status());
      return out;
    }
    out.group = scenarios::FailureGroupOf(*report);
    out.hash = report->trace_hash;
    out.nemesis_entries = report->nemesis_entries;
    for (const checkers::Verdict& v : report->verdicts) {
      if (v.violated()) {
        out.checker = v.rule();
        break;
      }
    }
    return out;
  }

  // A rerun as bytes (engine/api/record.h's wire helpers): the group, the checker, the nemesis's
  // firings as scenario faults (serialized), then the hash.
  static std::string Encode(const Rerun& r) {
    proto::Scenario fired;
    scenarios::FaultPlanToProto(faults::FaultPlan{r.nemesis_entries, std::nullopt}, &fired);
    std::vector<uint8_t> out;
    for (const std::string& part : {r.group, r.checker, fired.SerializeAsString()}) {
      engine::PutBytes(out, part);
    }
    engine::PutU64(out, r.hash);
    return std::string(out.begin(), out.end());
  }

  static std::optional<Rerun> Decode(std::string_view bytes) {
    engine::ByteReader in(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    Result<std::string> group = in.Bytes();
    Result<std::string> checker = in.Bytes();
    Result<std::string> fired_bytes = in.Bytes();
    Result<uint64_t> hash = in.U64();
    proto::Scenario fired;
    if (!group.ok() || !checker.ok() || !fired_bytes.ok() || !hash.ok() || !in.done() ||
        !fired.ParseFromString(*fired_bytes)) {
      return std::nullopt;
    }
    Result<faults::FaultPlan> plan = scenarios::FaultPlanFromProto(fired);
    if (!plan.ok()) return std::nullopt;
    return Rerun{std::move(*group), std::move(*checker), *hash, std::move(plan->entries)};
  }

  std::string path_;
  const MinimizeOptions& o_;
  std::unique_ptr<IsolatedWorker> worker_;
  uint32_t reruns_ = 0;
};

proto::Scenario WithFaults(const proto::Scenario& spec, const Faults& faults) {
  proto::Scenario out = spec;
  out.clear_faults();
  for (const proto::Fault& f : faults) *out.add_faults() = f;
  return out;
}

// Delta debugging (Zeller's ddmin) over the plan entries: the smallest subset found that still
// fails the same way, within the budget.
Faults DeltaDebug(const proto::Scenario& spec, Faults items, const std::string& group,
                  Tester& tester) {
  if (!items.empty() && tester.FailsSame(WithFaults(spec, {}), group)) return {};
  size_t n = 2;
  while (items.size() >= 2 && !tester.exhausted()) {
    const size_t size = items.size();
    n = std::min(n, size);
    std::vector<std::pair<size_t, size_t>> chunks;  // [begin, end)
    for (size_t k = 0; k < n; ++k) chunks.emplace_back(k * size / n, (k + 1) * size / n);
    bool reduced = false;
    for (const auto& [b, e] : chunks) {  // a chunk alone
      Faults subset(items.begin() + static_cast<ptrdiff_t>(b),
                    items.begin() + static_cast<ptrdiff_t>(e));
      if (tester.FailsSame(WithFaults(spec, subset), group)) {
        items = std::move(subset);
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced && n > 2) {
      for (const auto& [b, e] : chunks) {  // everything but a chunk
        Faults rest(items.begin(), items.begin() + static_cast<ptrdiff_t>(b));
        rest.insert(rest.end(), items.begin() + static_cast<ptrdiff_t>(e), items.end());
        if (tester.FailsSame(WithFaults(spec, rest), group)) {
          items = std::move(rest);
          n = std::max<size_t>(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (reduced) continue;
    if (n >= items.size()) break;
    n = std::min(n * 2, items.size());
  }
  return items;
}

// Removes entries one at a time until a whole pass removes none. True when that pass completed
// (the result is 1-minimal), false when the budget ran out first.
bool OneMinimal(proto::Scenario& spec, const std::string& group, Tester& tester,
                std::vector<std::string>& steps) {
  bool removed = true;
  while (removed) {
    removed = false;
    for (int i = 0; i < spec.faults_size(); ++i) {
      if (tester.exhausted()) return false;
      proto::Scenario candidate = spec;
      candidate.mutable_faults()->DeleteSubrange(i, 1);
      if (!tester.FailsSame(candidate, group)) continue;
      steps.push_back("removed fault " + spec.faults(i).name());
      spec = std::move(candidate);
      removed = true;
      break;
    }
  }
  return true;
}

// One way to make the job or its input smaller; false when it does not apply.
using Move = bool (*)(proto::Scenario&, std::string&);

proto::Source* SourceOf(proto::Scenario& s) {
  for (proto::Operator& op : *s.mutable_job()->mutable_operators()) {
    if (op.has_source()) return op.mutable_source();
  }
  return nullptr;
}

bool FewerRecords(proto::Scenario& s, std::string& what) {
  proto::Source* src = SourceOf(s);
  const uint32_t r =
      src == nullptr ? 0 : (src->has_records_per_partition() ? src->records_per_partition() : 1000);
  if (r <= 1) return false;
  src->set_records_per_partition(r / 2);
  what = "records per partition " + std::to_string(r) + " -> " + std::to_string(r / 2);
  return true;
}

bool FewerPartitions(proto::Scenario& s, std::string& what) {
  proto::Source* src = SourceOf(s);
  const uint32_t p = src == nullptr ? 0 : (src->has_partitions() ? src->partitions() : 4);
  if (p <= 1) return false;
  src->set_partitions(p - 1);
  what = "partitions " + std::to_string(p) + " -> " + std::to_string(p - 1);
  return true;
}

bool FewerKeys(proto::Scenario& s, std::string& what) {
  proto::Source* src = SourceOf(s);
  const uint32_t k = src == nullptr ? 0 : (src->has_keys() ? src->keys() : 100);
  if (k <= 1) return false;
  src->set_keys(k / 2);
  what = "keys " + std::to_string(k) + " -> " + std::to_string(k / 2);
  return true;
}

bool LowerParallelism(proto::Scenario& s, std::string& what) {
  proto::Job* job = s.mutable_job();
  for (proto::Operator& op : *job->mutable_operators()) {
    if (op.has_parallelism() && op.parallelism() > 1) {
      what = "parallelism of " + (op.name().empty() ? std::string("an operator") : op.name()) +
             " " + std::to_string(op.parallelism()) + " -> " + std::to_string(op.parallelism() - 1);
      op.set_parallelism(op.parallelism() - 1);
      return true;
    }
  }
  if (!job->has_parallelism() || job->parallelism() <= 1) return false;
  what = "job parallelism " + std::to_string(job->parallelism()) + " -> " +
         std::to_string(job->parallelism() - 1);
  job->set_parallelism(job->parallelism() - 1);
  return true;
}

bool FewerTaskManagers(proto::Scenario& s, std::string& what) {
  const uint32_t n = s.cluster().has_task_managers() ? s.cluster().task_managers() : 3;
  if (n <= 1) return false;
  s.mutable_cluster()->set_task_managers(n - 1);
  what = "TaskManagers " + std::to_string(n) + " -> " + std::to_string(n - 1);
  return true;
}

// Each stateless operator (map, filter, flat_map) is a candidate to remove; `nth` picks one.
bool WithoutStatelessOperator(proto::Scenario& s, std::string& what, int nth) {
  auto* ops = s.mutable_job()->mutable_operators();
  int seen = 0;
  for (int i = 0; i < ops->size(); ++i) {
    const proto::Operator& op = ops->Get(i);
    if (!op.has_map() && !op.has_filter() && !op.has_flat_map()) continue;
    if (seen++ != nth) continue;
    what = "removed operator " + (op.name().empty() ? "#" + std::to_string(i) : op.name());
    ops->DeleteSubrange(i, 1);
    return true;
  }
  return false;
}

// Smaller jobs and inputs, each move repeated while it keeps the failure.
void ShrinkJob(proto::Scenario& spec, const std::string& group, Tester& tester,
               std::vector<std::string>& steps) {
  static constexpr Move kMoves[] = {FewerRecords, FewerPartitions, FewerKeys, LowerParallelism,
                                    FewerTaskManagers};
  bool progress = true;
  while (progress && !tester.exhausted()) {
    progress = false;
    for (Move move : kMoves) {
      proto::Scenario candidate = spec;
      std::string what;
      if (!move(candidate, what) || !tester.FailsSame(candidate, group)) continue;
      spec = std::move(candidate);
      steps.push_back(what);
      progress = true;
    }
    for (int nth = 0; !tester.exhausted(); ++nth) {
      proto::Scenario candidate = spec;
      std::string what;
      if (!WithoutStatelessOperator(candidate, what, nth)) break;
      if (!tester.FailsSame(candidate, group)) continue;
      spec = std::move(candidate);
      steps.push_back(what);
      progress = true;
      break;
    }
  }
}

// The vary draw frozen in, every entry named (default names follow the index, and a fault's
// random stream is forked by its name), the seed and switches written in.
proto::Scenario Frozen(const proto::Scenario& spec, const MinimizeOptions& options) {
  proto::Scenario out = scenarios::ApplyVary(spec, options.seed).spec;
  for (int i = 0; i < out.faults_size(); ++i) {
    if (out.faults(i).name().empty()) {
      out.mutable_faults(i)->set_name("faults[" + std::to_string(i) + "]");
    }
  }
  return out;
}

// The nemesis's firings of the original run as explicit entries after the plan's own.
Result<proto::Scenario> Explicit(const proto::Scenario& spec,
                                 const std::vector<faults::PlanEntry>& fired) {
  FL_ASSIGN_OR_RETURN(faults::FaultPlan plan, scenarios::FaultPlanFromProto(spec));
  plan.entries.insert(plan.entries.end(), fired.begin(), fired.end());
  plan.nemesis.reset();
  proto::Scenario out = spec;
  scenarios::FaultPlanToProto(plan, &out);
  return out;
}

}  // namespace

Result<MinimizeResult> Minimize(const scenarios::Scenario& scenario,
                                const MinimizeOptions& options) {
  Tester tester(scenario.path, options);
  MinimizeResult result;
  result.seed = options.seed;
  result.switches = options.switches;
  auto log = [&](const std::string& line) {
    result.steps.push_back(line);
    if (options.log) options.log(line);
  };
  proto::Scenario spec = Frozen(scenario.spec, options);
  const std::optional<Rerun> original = tester.Run(spec);
  if (!original)
    return InvalidArgumentError("the scenario is not valid at seed " +
                                std::to_string(options.seed));
  if (original->group.empty()) {
    return FailedPreconditionError("seed " + std::to_string(options.seed) +
                                   " does not fail: nothing to minimize");
  }
  result.group = original->group;
  result.original_hash = original->hash;
  result.entries_before =
      static_cast<size_t>(spec.faults_size()) + original->nemesis_entries.size();
  log("fails: " + result.group + " (" + std::to_string(result.entries_before) + " faults)");

  if (spec.has_nemesis()) {
    FL_ASSIGN_OR_RETURN(proto::Scenario expl, Explicit(spec, original->nemesis_entries));
    const std::optional<Rerun> again = tester.Run(expl);
    if (again && again->group == result.group) {
      result.made_explicit = true;
      result.explicit_same_hash = again->hash == original->hash;
      spec = std::move(expl);
      log(std::string("the nemesis's faults as explicit entries: the same failure, ") +
          (result.explicit_same_hash ? "the same trace hash" : "a different trace hash"));
    } else {
      log("the nemesis's faults as explicit entries do not fail the same way: nemesis kept");
    }
  }
  if (!spec.has_nemesis()) {
    Faults faults(spec.faults().begin(), spec.faults().end());
    Faults kept = DeltaDebug(spec, std::move(faults), result.group, tester);
    spec = WithFaults(spec, kept);
    log("delta debugging kept " + std::to_string(spec.faults_size()) + " faults");
  }
  ShrinkJob(spec, result.group, tester, result.steps);
  if (!spec.has_nemesis())
    result.one_minimal = OneMinimal(spec, result.group, tester, result.steps);
  const std::optional<Rerun> last = tester.Run(spec, /*budgeted=*/false);
  result.minimized_hash = last ? last->hash : 0;
  result.entries_after = static_cast<size_t>(spec.faults_size());
  result.minimized = std::move(spec);
  result.reruns = tester.reruns();
  return result;
}

Result<proto::Scenario> ExplicitScenario(const proto::Scenario& spec, uint64_t seed,
                                         const std::vector<faults::PlanEntry>& fired) {
  MinimizeOptions options;
  options.seed = seed;
  proto::Scenario frozen = Frozen(spec, options);
  if (!frozen.has_nemesis()) return frozen;
  return Explicit(frozen, fired);
}

std::string ReproducerText(const MinimizeResult& r, const std::string& source) {
  proto::Scenario spec = r.minimized;
  // The job's name defaults to the scenario's and names its blobs and HA keys: keep it, so the
  // renamed reproducer runs exactly as minimized (the same trace hash).
  if (spec.job().name().empty()) spec.mutable_job()->set_name(spec.name());
  spec.set_name(spec.name() + "-min");
  spec.set_seed(r.seed);
  for (const std::string& name : r.switches) {
    const auto& listed = spec.teaching_switches();
    if (std::find(listed.begin(), listed.end(), name) == listed.end()) {
      spec.add_teaching_switches(name);
    }
  }
  spec.set_description("Minimized from " + source + " at seed " + std::to_string(r.seed) + ": " +
                       r.group);
  proto::Expectation* expect = spec.mutable_expect();
  expect->Clear();
  if (r.group.rfind("VIOLATION ", 0) == 0) {
    expect->set_verdict(proto::Expectation::VIOLATION);
    const size_t colon = r.group.find(':');
    expect->set_checker(r.group.substr(10, colon == std::string::npos ? 0 : colon - 10));
  } else if (r.group.rfind("INCONCLUSIVE", 0) == 0) {
    expect->set_verdict(proto::Expectation::INCONCLUSIVE);
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(spec, &text);
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, r.minimized_hash);
  std::string header = "# " + spec.name() + ": minimized by faultline minimize.\n";
  header += "# From " + source + " at seed " + std::to_string(r.seed) + ": " + r.group + "\n";
  header += "# " + std::to_string(r.entries_before) + " faults -> " +
            std::to_string(r.entries_after) + " (" + std::to_string(r.reruns) + " reruns; " +
            (r.one_minimal ? "1-minimal: removing any one fault loses the failure"
                           : "not proven 1-minimal") +
            "). Trace hash " + hash + ".\n";
  for (const std::string& step : r.steps) header += "#   " + step + "\n";
  return header + "\n" + text;
}

}  // namespace faultline::search
