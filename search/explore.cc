// Exploration: child processes (or, without isolation, a pool of threads) take seeds in turn; each
// run is its own simulated world. Results land in a slot per seed and are handed on (on_result) in
// seed order as soon as every earlier seed is done, so the output does not depend on the number of
// jobs, on timing, or on isolation.
#include "search/explore.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "base/int128.h"
#include "scenarios/soak.h"
#include "search/guided.h"

namespace faultline::search {
namespace {

using scenarios::RunReport;

std::string OutcomeOf(const RunReport& r) {
  return std::string(scenarios::OutcomeName(r.outcome));
}

SeedResult FromReport(uint64_t seed, const RunReport& r) {
  SeedResult s;
  s.seed = seed;
  s.scenario = r.name;
  s.outcome = OutcomeOf(r);
  s.group = scenarios::FailureGroupOf(r);
  s.failing = !s.group.empty();
  if (r.outcome == RunReport::Outcome::kViolation) {
    for (const checkers::Verdict& v : r.verdicts) {
      if (v.violated()) {
        s.detail = checkers::ToString(*v.first());
        break;
      }
    }
  } else if (r.outcome == RunReport::Outcome::kInconclusive) {
    s.detail = r.outcome_detail;
  }
  for (const std::string& name : r.markers) {
    if (std::optional<checkers::Marker> m = checkers::MarkerFromName(name)) s.markers.set(*m);
  }
  s.trace_hash = r.trace_hash;
  s.simulated_ms = static_cast<uint64_t>((r.ended - Time::Zero()).nanos() / 1'000'000);
  s.reproduce = r.reproduce;
  return s;
}

SeedResult FailingResult(uint64_t seed, const std::string& scenario, std::string outcome,
                         std::string group, std::string detail) {
  SeedResult s;
  s.seed = seed;
  s.scenario = scenario;
  s.outcome = std::move(outcome);
  s.failing = true;
  s.group = std::move(group);
  s.detail = std::move(detail);
  return s;
}

SeedResult ErrorResult(uint64_t seed, const std::string& scenario, const Status& status) {
  return FailingResult(seed, scenario, "ERROR", scenarios::ErrorGroupOf(status), status.ToString());
}

// One seed: its case, its run, and (DET sample) a second run.
SeedResult RunSeed(const ExploreOptions& options, uint64_t seed, bool det) {
  Result<scenarios::Scenario> c = options.source(seed);
  if (!c.ok()) return ErrorResult(seed, "", c.status());
  return RunCase(*c, seed, options.switches, det, nullptr);
}

}  // namespace

SeedResult RunCase(const scenarios::Scenario& c, uint64_t seed,
                   const std::vector<std::string>& switches, bool det,
                   std::vector<faults::PlanEntry>* fired) {
  scenarios::RunOptions run;
  run.seed = seed;
  run.switches = switches;
  Result<RunReport> report = scenarios::RunScenario(c, run);
  if (!report.ok()) {
    SeedResult s = ErrorResult(seed, c.spec.name(), report.status());
    // A switch that does not apply to a generated case's mode: nothing to run, nothing wrong.
    if (report.status().code() == StatusCode::kInvalidArgument && !switches.empty() &&
        report.status().message().find("teaching_switches") != std::string::npos) {
      s.outcome = "SKIPPED";
      s.failing = false;
      s.group.clear();
    }
    return s;
  }
  SeedResult s = FromReport(seed, *report);
  s.fault_entries = static_cast<uint64_t>(c.spec.faults_size()) + report->nemesis_entries.size();
  if (fired != nullptr) *fired = report->nemesis_entries;
  if (det) {
    Result<RunReport> again = scenarios::RunScenario(c, run);
    s.rerun_hash = again.ok() ? again->trace_hash : 0;
  }
  return s;
}

void TallyResult(const SeedResult& s, ExploreReport& report) {
  ++report.done;
  ++report.outcomes[s.outcome];
  for (checkers::Marker m : checkers::kAllMarkers) {
    if (s.markers.has(m)) ++report.marker_hits[static_cast<size_t>(m)];
  }
  if (s.rerun_hash) {
    ++report.det_checked;
    if (s.det_mismatch()) report.det_mismatches.push_back(s.seed);
  }
  if (!s.failing) return;
  ++report.failing;
  auto it = std::find_if(report.groups.begin(), report.groups.end(),
                         [&](const FailureGroup& g) { return g.what == s.group; });
  if (it == report.groups.end()) {
    it = report.groups.insert(report.groups.end(), FailureGroup{s.group, {}, s.reproduce});
  }
  it->seeds.push_back(s.seed);
  if (s.run) it->runs.push_back(*s.run);
}

uint64_t RunInOrder(uint64_t count, unsigned jobs, const std::function<bool()>& stop_now,
                    const std::function<SeedResult(uint64_t)>& run,
                    const std::function<void(uint64_t, SeedResult&)>& deliver) {
  std::vector<std::optional<SeedResult>> slots(count);
  std::atomic<uint64_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;  // guards slots' hand-off, `delivered` and the callback
  uint64_t delivered = 0;
  const auto work = [&] {
    while (!stop) {
      const uint64_t i = next++;
      if (i >= count) return;
      if (stop_now()) {
        stop = true;
        return;
      }
      SeedResult result = run(i);
      std::lock_guard<std::mutex> lock(mutex);
      slots[i] = std::move(result);
      // Hand on every result whose predecessors are all done, in index order.
      while (delivered < count && slots[delivered]) {
        deliver(delivered, *slots[delivered]);
        slots[delivered].reset();
        ++delivered;
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  return delivered;
}

uint64_t RunIsolatedSeeds(
    uint64_t count, unsigned jobs, const std::function<bool()>& stop,
    const std::function<SeedResult(uint64_t, std::string& extra)>& run,
    const std::function<SeedResult(uint64_t, const ChildEnd&)>& crashed,
    const std::function<void(uint64_t, SeedResult&, const std::string& extra)>& deliver) {
  // A child's payload: the result's JSON line, a newline, then `extra` as it is.
  const auto work = [&](uint64_t i) {
    std::string extra;
    const SeedResult r = run(i, extra);
    return SeedResultJson(r) + "\n" + extra;
  };
  const auto hand_on = [&](uint64_t i, ChildOutcome& o) {
    const size_t newline = o.completed ? o.payload.find('\n') : std::string::npos;
    Result<SeedResult> r =
        newline == std::string::npos
            ? Result<SeedResult>(InternalError("no result"))
            : ParseSeedResultJson(std::string_view(o.payload).substr(0, newline));
    if (!r.ok()) {
      // A payload that does not read back is a bug of this program, not of the run: say so.
      if (o.completed) o.end.stderr_tail = "unreadable result: " + r.status().ToString();
      SeedResult c = crashed(i, o.end);
      deliver(i, c, "");
      return;
    }
    deliver(i, *r, o.payload.substr(newline + 1));
  };
  return RunIsolatedInOrder(count, jobs, stop, work, hand_on);
}

SeedResult CrashResult(uint64_t seed, const std::string& scenario, const ChildEnd& end) {
  return FailingResult(seed, scenario, "CRASH", "CRASH: " + end.Reason(), end.Describe());
}

void NameCrashedCase(const CaseSource& source, const std::vector<std::string>& switches,
                     SeedResult& result) {
  IsolatedWorker worker([&](std::string_view) {
    Result<scenarios::Scenario> c = source(result.seed);
    return c.ok() ? c->spec.name() + "\n" + c->path : std::string();
  });
  const ChildOutcome o = worker.Call("");
  const size_t newline = o.payload.find('\n');
  if (!o.completed || newline == std::string::npos) return;
  result.scenario = o.payload.substr(0, newline);
  result.reproduce =
      scenarios::ReproduceCommand(o.payload.substr(newline + 1), result.seed, switches);
}

CaseSource ScenarioFileSource(scenarios::Scenario scenario) {
  return [scenario = std::move(scenario)](uint64_t) -> Result<scenarios::Scenario> {
    return scenario;
  };
}

Result<Shard> ParseShard(std::string_view text) {
  const size_t slash = text.find('/');
  Shard shard;
  auto number = [](std::string_view part, uint32_t& out) {
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && end == part.data() + part.size() && !part.empty();
  };
  if (slash == std::string_view::npos || !number(text.substr(0, slash), shard.index) ||
      !number(text.substr(slash + 1), shard.count) || shard.count == 0 || shard.index == 0 ||
      shard.index > shard.count) {
    return InvalidArgumentError("--shard: expected K/N with 1 <= K <= N, got \"" +
                                std::string(text) + "\"");
  }
  return shard;
}

SeedRange ShardRange(uint64_t first, uint64_t seeds, Shard shard) {
  // Shard k takes seeds [first + floor((k-1) * seeds / n), first + floor(k * seeds / n)).
  const auto bound = [&](uint64_t k) {
    return static_cast<uint64_t>((static_cast<Uint128>(k) * seeds) / shard.count);
  };
  const uint64_t begin = bound(shard.index - 1);
  return SeedRange{first + begin, bound(shard.index) - begin};
}

double ExploreReport::seeds_per_second() const {
  return wall_seconds > 0 ? static_cast<double>(done) / wall_seconds : 0;
}

Result<ExploreReport> Explore(const ExploreOptions& options) {
  if (!options.source) return InvalidArgumentError("explore: no scenario and no --generate");
  if (options.seeds == 0) return InvalidArgumentError("explore: --seeds must be at least 1");
  if (options.first_seed > UINT64_MAX - (options.seeds - 1)) {
    return InvalidArgumentError("explore: the seed range passes 2^64 - 1");
  }
  if (options.time_budget_seconds && !(*options.time_budget_seconds > 0)) {
    return InvalidArgumentError("explore: --time-budget must be positive");
  }
  if (options.guided) return ExploreGuided(options);
  ExploreReport report;
  report.source_label = options.source_label;
  report.shard = options.shard;
  report.range = ShardRange(options.first_seed, options.seeds, options.shard);
  const uint64_t total = report.range.count;
  unsigned jobs =
      options.jobs != 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  jobs = static_cast<unsigned>(std::max<uint64_t>(1, std::min<uint64_t>(jobs, total)));
  report.jobs = jobs;
  report.isolated = options.isolate;

  const auto start = std::chrono::steady_clock::now();
  const auto out_of_time = [&] {
    if (!options.time_budget_seconds) return false;
    const double spent =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return spent >= *options.time_budget_seconds;
  };
  const auto run = [&](uint64_t i) {
    const uint64_t seed = report.range.first + i;
    const bool det = options.det_every != 0 && (seed - options.first_seed) % options.det_every == 0;
    return RunSeed(options, seed, det);
  };
  const auto deliver = [&](uint64_t, SeedResult& result) {
    TallyResult(result, report);
    if (options.on_result) options.on_result(result);
    if (options.progress) options.progress(report.done, total, report.failing);
  };
  uint64_t delivered = 0;
  if (options.isolate) {
    delivered = RunIsolatedSeeds(
        total, jobs, out_of_time, [&](uint64_t i, std::string&) { return run(i); },
        [&](uint64_t i, const ChildEnd& end) {
          SeedResult crashed = CrashResult(report.range.first + i, "", end);
          NameCrashedCase(options.source, options.switches, crashed);
          return crashed;
        },
        [&](uint64_t i, SeedResult& r, const std::string&) { deliver(i, r); });
  } else {
    delivered = RunInOrder(total, jobs, out_of_time, run, deliver);
  }
  // A budget stop can leave results behind a gap (a later seed finished, an earlier one was never
  // started): only the contiguous prefix counts, so the output is still a seed range.
  report.budget_exhausted = delivered < total;
  std::stable_sort(
      report.groups.begin(), report.groups.end(),
      [](const FailureGroup& a, const FailureGroup& b) { return a.seeds.size() > b.seeds.size(); });
  report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::string SeedResultJson(const SeedResult& r) {
  nlohmann::json j;
  j["seed"] = r.seed;
  j["scenario"] = r.scenario;
  j["outcome"] = r.outcome;
  j["failing"] = r.failing;
  if (!r.group.empty()) j["group"] = r.group;
  if (!r.detail.empty()) j["detail"] = r.detail;
  std::vector<std::string> markers;
  for (std::string_view m : r.markers.names()) markers.emplace_back(m);
  j["markers"] = markers;
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, r.trace_hash);
  j["trace_hash"] = hash;
  if (r.rerun_hash) {
    std::snprintf(hash, sizeof hash, "%016" PRIx64, *r.rerun_hash);
    j["rerun_hash"] = hash;
  }
  j["simulated_ms"] = r.simulated_ms;
  j["fault_entries"] = r.fault_entries;
  if (!r.reproduce.empty()) j["reproduce"] = r.reproduce;
  if (r.run) j["run"] = *r.run;
  if (r.mutant_of) {
    j["mutant_of"] = *r.mutant_of;
    j["mutations"] = r.mutations;
  }
  return j.dump();
}

Result<SeedResult> ParseSeedResultJson(std::string_view line) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&](const std::string& why) {
    return InvalidArgumentError("not a seed result line (" + why +
                                "): " + std::string(line.substr(0, 200)));
  };
  if (!j.is_object()) return bad("not a JSON object");
  const auto hex = [](const nlohmann::json& v, uint64_t& out) {
    if (!v.is_string()) return false;
    const std::string& text = v.get_ref<const std::string&>();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
    return ec == std::errc() && end == text.data() + text.size();
  };
  SeedResult r;
  try {
    r.seed = j.at("seed").get<uint64_t>();
    r.scenario = j.at("scenario").get<std::string>();
    r.outcome = j.at("outcome").get<std::string>();
    r.failing = j.at("failing").get<bool>();
    r.group = j.value("group", "");
    r.detail = j.value("detail", "");
    for (const auto& m : j.at("markers")) {
      const std::optional<checkers::Marker> marker = checkers::MarkerFromName(m.get<std::string>());
      if (!marker) return bad("unknown marker " + m.get<std::string>());
      r.markers.set(*marker);
    }
    if (!hex(j.at("trace_hash"), r.trace_hash)) return bad("trace_hash");
    if (j.contains("rerun_hash")) {
      uint64_t h = 0;
      if (!hex(j.at("rerun_hash"), h)) return bad("rerun_hash");
      r.rerun_hash = h;
    }
    r.simulated_ms = j.at("simulated_ms").get<uint64_t>();
    r.fault_entries = j.at("fault_entries").get<uint64_t>();
    r.reproduce = j.value("reproduce", "");
    if (j.contains("run")) r.run = j.at("run").get<uint64_t>();
    if (j.contains("mutant_of")) {
      r.mutant_of = j.at("mutant_of").get<uint64_t>();
      r.mutations = j.at("mutations").get<std::vector<std::string>>();
    }
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
  return r;
}

namespace {

double Percent(uint64_t n, uint64_t of) {
  return of ? 100.0 * static_cast<double>(n) / static_cast<double>(of) : 0.0;
}

std::string FormatCoverage(const ExploreReport& r) {
  std::string out = "coverage     seeds reaching each marker (of " + std::to_string(r.done) + ")\n";
  char buf[256];
  for (checkers::Marker m : checkers::kAllMarkers) {
    const uint64_t n = r.marker_hits[static_cast<size_t>(m)];
    std::snprintf(buf, sizeof buf, "  %6" PRIu64 "  %5.1f%%  %s\n", n, Percent(n, r.done),
                  std::string(checkers::MarkerName(m)).c_str());
    out += buf;
  }
  return out;
}

// Plain seeds and mutants side by side, so what guidance reached that plain seeds did not shows.
std::string FormatGuided(const GuidedSummary& g) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "guided       %" PRIu64 " plain seeds, %" PRIu64 " mutants in %" PRIu64
                " generations; corpus %" PRIu64 " inputs kept; %" PRIu64
                " invalid mutations drawn again\n",
                g.plain_runs, g.mutants, g.generations, g.corpus, g.invalid_mutants);
  std::string out = buf;
  out += "coverage     runs reaching each marker: plain seeds, mutants\n";
  for (checkers::Marker m : checkers::kAllMarkers) {
    const uint64_t p = g.plain_hits[static_cast<size_t>(m)];
    const uint64_t u = g.mutant_hits[static_cast<size_t>(m)];
    std::snprintf(buf, sizeof buf, "  %6" PRIu64 " %5.1f%%  %6" PRIu64 " %5.1f%%  %s%s\n", p,
                  Percent(p, g.plain_runs), u, Percent(u, g.mutants),
                  std::string(checkers::MarkerName(m)).c_str(),
                  p == 0 && u > 0 ? "  (reached by mutants only)" : "");
    out += buf;
  }
  return out;
}

}  // namespace

std::string FormatExploreReport(const ExploreReport& r) {
  std::string out;
  char buf[512];
  const uint64_t last = r.range.count == 0 ? r.range.first : r.range.first + r.range.count - 1;
  std::snprintf(buf, sizeof buf,
                "explore      %s, seeds %" PRIu64 "..%" PRIu64 " (shard %u/%u), %" PRIu64
                " run on %u %s in %.1f s: %.1f seeds/s\n",
                r.source_label.c_str(), r.range.first, last, r.shard.index, r.shard.count, r.done,
                r.jobs, r.isolated ? "worker processes" : "threads", r.wall_seconds,
                r.seeds_per_second());
  out += buf;
  if (r.budget_exhausted && r.guided) {
    out += "             the time budget ran out after " + std::to_string(r.done) + " runs\n";
  } else if (r.budget_exhausted) {
    out += "             the time budget ran out: seeds " + std::to_string(r.range.first) + ".." +
           std::to_string(r.range.first + r.done - 1) + " ran\n";
  }
  std::string outcomes;
  for (const auto& [name, n] : r.outcomes) {
    outcomes += (outcomes.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  }
  out += "outcomes     " + outcomes + "\n";
  if (r.guided) {
    out += FormatGuided(*r.guided);
  } else {
    out += FormatCoverage(r);
  }
  if (r.det_checked > 0) {
    out += "determinism  " + std::to_string(r.det_checked) + " seeds rerun, " +
           std::to_string(r.det_mismatches.size()) + " trace-hash mismatches\n";
  }
  if (r.clean()) {
    out += "verdict      CLEAN: no violation, no unexplained inconclusive run, no error\n";
    return out;
  }
  out += "verdict      FAILING: " + std::to_string(r.failing) + " seeds in " +
         std::to_string(r.groups.size()) + " groups\n";
  for (const FailureGroup& g : r.groups) {
    std::string seeds;
    for (size_t i = 0; i < g.seeds.size() && i < 12; ++i) {
      seeds += (i ? ", " : "") + std::to_string(g.seeds[i]);
      if (i < g.runs.size()) seeds += " (run " + std::to_string(g.runs[i]) + ")";
    }
    if (g.seeds.size() > 12) seeds += " ... (" + std::to_string(g.seeds.size() - 12) + " more)";
    out += "group        " + std::to_string(g.seeds.size()) + " x " + g.what + "\n";
    out += "               seeds " + seeds + "\n";
    out += "               first: " + g.first_reproduce + "\n";
  }
  for (uint64_t seed : r.det_mismatches) {
    out += "determinism  seed " + std::to_string(seed) + ": the rerun's trace hash differs\n";
  }
  return out;
}

}  // namespace faultline::search
