// The soak: a pool of threads takes (file, seed) runs in turn; each run is its own simulated world
// (nothing is shared between runs but the loaded scenarios, which are read only), so the verdicts
// do not depend on how many threads ran them. Results land in a slot per run and are summarised
// in file and seed order afterwards.
#include "scenarios/soak.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "base/isolated.h"
#include "engine/api/record.h"
#include "scenarios/loader.h"

namespace faultline::scenarios {
namespace {

// What one run left for the summary (a report is large; only this is kept).
struct Slot {
  bool error = false;
  bool crashed = false;
  RunReport::Outcome outcome = RunReport::Outcome::kPass;
  bool explained = false;
  std::string group;
  std::string detail;
  std::string varied;
  std::string reproduce;
  std::vector<std::string> explanations;  // "LIVE job-not-finished", explained parts
  double wall_seconds = 0;
  double simulated_seconds = 0;
};

std::string Joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

Slot Summarise(const RunReport& r) {
  Slot s;
  s.outcome = r.outcome;
  s.varied = r.varied;
  s.reproduce = r.reproduce;
  s.wall_seconds = r.wall_seconds;
  s.simulated_seconds = static_cast<double>((r.ended - Time::Zero()).nanos()) / 1e9;
  s.group = FailureGroupOf(r);
  for (const checkers::Verdict& v : r.verdicts) {
    if (v.violated() && s.detail.empty()) s.detail = checkers::ToString(*v.first());
    for (const checkers::UnjudgedPart& part : v.unjudged()) {
      if (part.explained_by.empty()) continue;
      const std::string kind = v.rule() + " " + std::string(checkers::UnjudgedName(part.reason));
      if (std::find(s.explanations.begin(), s.explanations.end(), kind) == s.explanations.end()) {
        s.explanations.push_back(kind);
      }
    }
  }
  if (r.outcome == RunReport::Outcome::kInconclusive) {
    s.explained = r.unexplained.empty();
    s.detail = r.outcome_detail;
  }
  return s;
}

Slot RunOne(const Scenario& scenario, uint64_t seed) {
  RunOptions options;
  options.seed = seed;
  Result<RunReport> report = RunScenario(scenario, options);
  if (report.ok()) return Summarise(*report);
  Slot s;
  s.error = true;
  s.detail = "ERROR " + std::string(report.status().message());
  s.group = ErrorGroupOf(report.status());
  s.reproduce = "faultline run " + scenario.path + " --seed " + std::to_string(seed);
  return s;
}

// A slot as bytes, to come back from a worker process (engine/api/record.h's wire helpers): the
// flags and the outcome, the strings, the explanations, then the two durations (their bits).
std::string EncodeSlot(const Slot& s) {
  std::vector<uint8_t> out;
  engine::PutU64(out, (s.error ? 1u : 0u) | (s.explained ? 2u : 0u));
  engine::PutU64(out, static_cast<uint64_t>(s.outcome));
  for (const std::string* text : {&s.group, &s.detail, &s.varied, &s.reproduce}) {
    engine::PutBytes(out, *text);
  }
  engine::PutU64(out, s.explanations.size());
  for (const std::string& e : s.explanations) engine::PutBytes(out, e);
  engine::PutU64(out, std::bit_cast<uint64_t>(s.wall_seconds));
  engine::PutU64(out, std::bit_cast<uint64_t>(s.simulated_seconds));
  return std::string(out.begin(), out.end());
}

std::optional<Slot> DecodeSlot(std::string_view bytes) {
  engine::ByteReader in(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  Slot s;
  bool ok = true;
  const auto u64 = [&]() -> uint64_t {
    Result<uint64_t> v = in.U64();
    ok = ok && v.ok();
    return v.ok() ? *v : 0;
  };
  const auto text = [&]() -> std::string {
    Result<std::string> v = in.Bytes();
    ok = ok && v.ok();
    return v.ok() ? std::move(*v) : std::string();
  };
  const uint64_t flags = u64();
  const uint64_t outcome = u64();
  for (std::string* t : {&s.group, &s.detail, &s.varied, &s.reproduce}) *t = text();
  const uint64_t n = u64();
  for (uint64_t k = 0; ok && k < n; ++k) s.explanations.push_back(text());
  s.wall_seconds = std::bit_cast<double>(u64());
  s.simulated_seconds = std::bit_cast<double>(u64());
  if (!ok || !in.done() || outcome > static_cast<uint64_t>(RunReport::Outcome::kInconclusive)) {
    return std::nullopt;
  }
  s.error = (flags & 1u) != 0;
  s.explained = (flags & 2u) != 0;
  s.outcome = static_cast<RunReport::Outcome>(outcome);
  return s;
}

// A run whose worker process crashed, or whose result did not read back.
Slot CrashedSlot(const ChildEnd& end, const Scenario& scenario, uint64_t seed) {
  Slot s;
  s.crashed = true;
  s.group = "CRASH: " + end.Reason();
  s.detail = end.Describe();
  s.reproduce = ReproduceCommand(scenario.path, seed, {});
  return s;
}

bool Failing(const Slot& s) {
  return s.error || s.crashed || s.outcome == RunReport::Outcome::kViolation ||
         (s.outcome == RunReport::Outcome::kInconclusive && !s.explained);
}

void Tally(const Slot& slot, const std::string& file, uint64_t seed, SoakScenario& sum,
           std::vector<SoakFailure>& failures) {
  ++sum.runs;
  sum.wall_seconds += slot.wall_seconds;
  sum.simulated_seconds += slot.simulated_seconds;
  bool failing = true;
  if (slot.crashed) {
    ++sum.crashes;
  } else if (slot.error) {
    ++sum.errors;
  } else if (slot.outcome == RunReport::Outcome::kPass) {
    ++sum.pass;
    failing = false;
  } else if (slot.outcome == RunReport::Outcome::kViolation) {
    ++sum.violation;
  } else if (slot.explained) {
    ++sum.inconclusive_explained;
    for (const std::string& kind : slot.explanations) ++sum.explained[kind];
    failing = false;
  } else {
    ++sum.inconclusive_unexplained;
  }
  if (failing) {
    failures.push_back(
        SoakFailure{file, seed, slot.group, slot.detail, slot.varied, slot.reproduce});
  }
}

}  // namespace

namespace {

// `message` with each run of digits replaced by N, so one cause seen at different times or
// counts groups as one.
std::string WithoutNumbers(std::string_view message) {
  std::string out;
  bool in_number = false;
  for (const char c : message) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit) out += c;
    if (digit && !in_number) out += 'N';
    in_number = digit;
  }
  return out;
}

}  // namespace

std::string FailureGroupOf(const RunReport& r) {
  if (r.outcome == RunReport::Outcome::kViolation) {
    for (const checkers::Verdict& v : r.verdicts) {
      if (v.violated()) return "VIOLATION " + v.rule() + ": " + v.first()->what;
    }
  }
  if (r.outcome == RunReport::Outcome::kInconclusive && !r.unexplained.empty()) {
    return "INCONCLUSIVE " + Joined(r.unexplained);
  }
  return {};
}

std::string ErrorGroupOf(const Status& status) {
  return "ERROR " + WithoutNumbers(status.message());
}

uint64_t SoakReport::runs() const {
  uint64_t n = 0;
  for (const SoakScenario& s : scenarios) n += s.runs;
  return n;
}

bool SoakReport::clean() const {
  return failures.empty();
}

Result<SoakReport> RunSoak(const SoakOptions& options) {
  if (options.files.empty()) return InvalidArgumentError("soak: no scenario files");
  if (options.seeds == 0) return InvalidArgumentError("soak: --seeds must be at least 1");
  if (options.first_seed > UINT64_MAX - (options.seeds - 1)) {
    return InvalidArgumentError("soak: the seed range passes 2^64 - 1");
  }
  std::vector<Scenario> scenarios;
  for (const std::string& file : options.files) {
    FL_ASSIGN_OR_RETURN(Scenario s, LoadScenarioFile(file));
    if (s.spec.expect().verdict() != proto::Expectation::PASS) {
      return InvalidArgumentError(file +
                                  ": the soak runs scenarios that expect PASS (this one "
                                  "expects " +
                                  proto::Expectation::Verdict_Name(s.spec.expect().verdict()) +
                                  ")");
    }
    scenarios.push_back(std::move(s));
  }
  const auto wall_start = std::chrono::steady_clock::now();
  const uint64_t total = scenarios.size() * options.seeds;
  std::vector<Slot> slots(total);
  std::mutex progress_mutex;
  uint64_t done = 0;
  uint64_t failing = 0;
  const auto count = [&](const Slot& s) {
    std::lock_guard<std::mutex> lock(progress_mutex);
    ++done;
    failing += Failing(s) ? 1u : 0u;
    if (options.progress) options.progress(done, total, failing);
  };
  const auto scenario_of = [&](uint64_t i) -> const Scenario& {
    return scenarios[i / options.seeds];
  };
  const auto seed_of = [&](uint64_t i) { return options.first_seed + i % options.seeds; };
  unsigned jobs =
      options.jobs != 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  jobs = static_cast<unsigned>(std::min<uint64_t>(jobs, total));
  if (options.isolate) {
    RunIsolatedInOrder(
        total, jobs, [] { return false; },
        [&](uint64_t i) { return EncodeSlot(RunOne(scenario_of(i), seed_of(i))); },
        [&](uint64_t i, ChildOutcome& o) {
          std::optional<Slot> slot;
          if (o.completed) slot = DecodeSlot(o.payload);
          if (o.completed && !slot) o.end.stderr_tail = "a run's result did not read back";
          slots[i] = slot ? std::move(*slot) : CrashedSlot(o.end, scenario_of(i), seed_of(i));
          count(slots[i]);
        });
  } else {
    std::atomic<uint64_t> next{0};
    const auto work = [&] {
      for (uint64_t i = next++; i < total; i = next++) {
        slots[i] = RunOne(scenario_of(i), seed_of(i));
        count(slots[i]);
      }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(work);
    work();
    for (std::thread& t : threads) t.join();
  }

  SoakReport report;
  report.first_seed = options.first_seed;
  report.seeds = options.seeds;
  report.jobs = jobs;
  report.isolated = options.isolate;
  for (size_t f = 0; f < scenarios.size(); ++f) {
    SoakScenario sum;
    sum.file = scenarios[f].path;
    sum.name = scenarios[f].spec.name();
    for (uint64_t k = 0; k < options.seeds; ++k) {
      Tally(slots[f * options.seeds + k], sum.file, options.first_seed + k, sum, report.failures);
    }
    report.scenarios.push_back(std::move(sum));
  }
  report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return report;
}

namespace {

// Failures grouped by what went wrong: the group, its seeds per file, in first-seen order.
struct Group {
  std::string what;
  std::vector<const SoakFailure*> runs;
};

std::vector<Group> GroupFailures(const std::vector<SoakFailure>& failures) {
  std::vector<Group> groups;
  for (const SoakFailure& f : failures) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const Group& g) { return g.what == f.group; });
    if (it == groups.end()) it = groups.insert(groups.end(), Group{f.group, {}});
    it->runs.push_back(&f);
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const Group& a, const Group& b) { return a.runs.size() > b.runs.size(); });
  return groups;
}

// "aligned.textproto 3, 10, 13; unaligned.textproto 21" (at most `max` seeds).
std::string SeedList(const Group& g, size_t max) {
  std::string out;
  std::string file;
  for (size_t i = 0; i < g.runs.size() && i < max; ++i) {
    const std::string name = std::filesystem::path(g.runs[i]->file).filename().string();
    if (name != file) {
      out += (i ? "; " : "") + name + " ";
      file = name;
    } else {
      out += ", ";
    }
    out += std::to_string(g.runs[i]->seed);
  }
  if (g.runs.size() > max) out += " ... (" + std::to_string(g.runs.size() - max) + " more)";
  return out;
}

}  // namespace

std::string FormatSoakReport(const SoakReport& r, size_t max_listed) {
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "soak         seeds %" PRIu64 "..%" PRIu64 " per scenario, %" PRIu64
                " runs on %u %s, %.1f s wall\n",
                r.first_seed, r.first_seed + r.seeds - 1, r.runs(), r.jobs,
                r.isolated ? "worker processes" : "threads", r.wall_seconds);
  out += buf;
  out +=
      "             runs     pass  violation  inconcl.(explained)  inconcl.(unexplained)  "
      "errors  crashes  wall/run  scenario\n";
  for (const SoakScenario& s : r.scenarios) {
    std::snprintf(buf, sizeof buf,
                  "             %-7" PRIu64 "  %-5" PRIu64 "  %-9" PRIu64 "  %-19" PRIu64
                  "  %-21" PRIu64 "  %-6" PRIu64 "  %-7" PRIu64 "  %5.0f ms  %s\n",
                  s.runs, s.pass, s.violation, s.inconclusive_explained, s.inconclusive_unexplained,
                  s.errors, s.crashes,
                  s.runs ? 1000 * s.wall_seconds / static_cast<double>(s.runs) : 0.0,
                  s.file.c_str());
    out += buf;
    for (const auto& [kind, n] : s.explained) {
      out += "               explained: " + std::to_string(n) + " x " + kind + "\n";
    }
  }
  if (r.clean()) {
    out += "verdict      CLEAN: no violation, no unexplained inconclusive run, no error\n";
    return out;
  }
  out += "verdict      FAILING: " + std::to_string(r.failures.size()) + " runs\n";
  for (const Group& g : GroupFailures(r.failures)) {
    out += "group        " + std::to_string(g.runs.size()) + " x " + g.what + "\n";
    out += "               seeds: " + SeedList(g, 24) + "\n";
  }
  size_t listed = 0;
  for (const SoakFailure& f : r.failures) {
    if (listed++ == max_listed) {
      out += "             ... " + std::to_string(r.failures.size() - max_listed) +
             " more failing runs (--list N shows more; --report writes them all)\n";
      break;
    }
    out += "failing      " + f.reproduce + "\n";
    out += "               " + f.detail + "\n";
    if (!f.varied.empty()) out += "               varied: " + f.varied + "\n";
  }
  return out;
}

std::string SoakReportJson(const SoakReport& r) {
  nlohmann::json j;
  j["first_seed"] = r.first_seed;
  j["seeds"] = r.seeds;
  j["jobs"] = r.jobs;
  j["wall_seconds"] = r.wall_seconds;
  j["clean"] = r.clean();
  nlohmann::json scenarios = nlohmann::json::array();
  for (const SoakScenario& s : r.scenarios) {
    scenarios.push_back({{"file", s.file},
                         {"name", s.name},
                         {"runs", s.runs},
                         {"pass", s.pass},
                         {"violation", s.violation},
                         {"inconclusive_explained", s.inconclusive_explained},
                         {"inconclusive_unexplained", s.inconclusive_unexplained},
                         {"errors", s.errors},
                         {"crashes", s.crashes},
                         {"explained", s.explained},
                         {"wall_seconds", s.wall_seconds},
                         {"simulated_seconds", s.simulated_seconds}});
  }
  j["scenarios"] = scenarios;
  nlohmann::json failures = nlohmann::json::array();
  for (const SoakFailure& f : r.failures) {
    failures.push_back({{"file", f.file},
                        {"seed", f.seed},
                        {"group", f.group},
                        {"detail", f.detail},
                        {"varied", f.varied},
                        {"reproduce", f.reproduce}});
  }
  j["failures"] = failures;
  return j.dump(2) + "\n";
}

}  // namespace faultline::scenarios
