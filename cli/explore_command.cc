#include "cli/explore_command.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "report/html_report.h"
#include "scenarios/loader.h"
#include "search/explore.h"
#include "search/generators.h"
#include "search/guided.h"
#include "search/minimize.h"

namespace faultline::cli {
namespace {

constexpr int kExitClean = 0;
constexpr int kExitFailing = 1;
constexpr int kExitBadInput = 2;
// Failing groups minimized after an exploration (each takes up to --max-reruns runs).
constexpr size_t kGroupsMinimized = 3;
// Seeds the HTML report lists: every failing one and the first passing ones, each up to this.
constexpr size_t kSeedsListed = 2000;

bool WriteText(const std::string& path, const std::string& text, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) *error = "cannot write " + path;
  return static_cast<bool>(out);
}

// Minimizes `scenario` at `seed`, writes the reproducer into `out_dir`, prints the replay command.
// Returns false on an error (printed).
bool MinimizeAndWrite(const scenarios::Scenario& scenario, uint64_t seed, const ExploreArgs& args,
                      const std::string& out_file) {
  search::MinimizeOptions options;
  options.seed = seed;
  options.switches = args.switches;
  options.max_reruns = args.max_reruns;
  options.isolate = args.isolate;
  options.log = [](const std::string& line) { std::printf("  minimize   %s\n", line.c_str()); };
  std::printf("minimize     %s --seed %llu\n", scenario.path.c_str(),
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  Result<search::MinimizeResult> m = search::Minimize(scenario, options);
  if (!m.ok()) {
    std::printf("  minimize   not minimized: %s\n", m.status().ToString().c_str());
    return false;
  }
  std::string error;
  const std::filesystem::path dir = std::filesystem::path(out_file).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir);
  if (!WriteText(out_file, search::ReproducerText(*m, scenario.path), &error)) {
    std::printf("  minimize   %s\n", error.c_str());
    return false;
  }
  std::printf("  minimized  %zu faults -> %zu in %u reruns (%s); written to %s\n",
              m->entries_before, m->entries_after, m->reruns,
              m->one_minimal ? "1-minimal" : "not proven 1-minimal", out_file.c_str());
  std::printf("  replay     faultline run %s\n", out_file.c_str());
  std::fflush(stdout);
  return true;
}

std::string ReproducerPath(const std::string& dir, const std::string& name, uint64_t seed) {
  return (std::filesystem::path(dir) / (name + "-seed" + std::to_string(seed) + ".min.textproto"))
      .string();
}

}  // namespace

// The file a generated seed's case is written to (for the first seed of each failing group).
std::string GeneratedPath(const std::string& out_dir, uint64_t seed) {
  return (std::filesystem::path(out_dir) / ("generated-seed" + std::to_string(seed) + ".textproto"))
      .string();
}

// The cases of generated seeds (search/generators.h), named by the file they are written to, so
// a reproduce command names it.
search::CaseSource GeneratedCases(const std::string& out_dir) {
  return [out_dir](uint64_t seed) -> Result<scenarios::Scenario> {
    return scenarios::Scenario{GeneratedPath(out_dir, seed), search::GenerateScenario(seed, {})};
  };
}

namespace {

// The scenario of a group's first failing run: a mutant's (--guided) or the source's case.
Result<scenarios::Scenario> FirstCaseOf(const search::FailureGroup& g,
                                        const search::CaseSource& source,
                                        const search::ExploreReport& report) {
  if (report.guided) {
    for (const search::FailingMutant& m : report.guided->failing_mutants) {
      if (m.group != g.what) continue;
      if (m.seed == g.seeds.front() && g.first_reproduce.find(m.scenario.path) != std::string::npos)
        return m.scenario;
    }
  }
  return source(g.seeds.front());
}

// Writes each failing mutant kept (--guided) to the file its reproduce command names.
void WriteFailingMutants(const search::ExploreReport& report) {
  if (!report.guided) return;
  for (const search::FailingMutant& m : report.guided->failing_mutants) {
    std::string error;
    const std::filesystem::path dir = std::filesystem::path(m.scenario.path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    if (!WriteText(m.scenario.path, search::MutantText(m), &error)) {
      std::printf("mutant       %s\n", error.c_str());
    }
  }
  if (!report.guided->failing_mutants.empty()) {
    std::printf("mutants      %zu failing mutants written (first: %s)\n",
                report.guided->failing_mutants.size(),
                report.guided->failing_mutants.front().scenario.path.c_str());
  }
}

// Minimizes the first seed of the first groups; returns each minimized group's replay command.
std::map<std::string, std::string> MinimizeGroups(const ExploreArgs& args,
                                                  const search::CaseSource& source,
                                                  const search::ExploreReport& report) {
  std::map<std::string, std::string> replays;
  size_t n = 0;
  for (const search::FailureGroup& g : report.groups) {
    if (n++ == kGroupsMinimized) break;
    const uint64_t seed = g.seeds.front();
    Result<scenarios::Scenario> c = FirstCaseOf(g, source, report);
    if (!c.ok()) continue;
    if (args.generate && c->path == GeneratedPath(args.out_dir, seed)) {
      // The generated case itself, so the failure can be replayed before minimizing.
      std::string error;
      std::filesystem::create_directories(args.out_dir);
      if (WriteText(c->path, search::ToTextproto(c->spec), &error)) {
        std::printf("case         written to %s\n", c->path.c_str());
      }
    }
    const std::string out = ReproducerPath(args.out_dir, c->spec.name(), seed);
    if (MinimizeAndWrite(*c, seed, args, out)) {
      replays[g.what] = "faultline run " + out;
    }
  }
  return replays;
}

}  // namespace

int ExploreCommand(const ExploreArgs& args) {
  if (args.generate == !args.file.empty()) {
    std::cerr << "faultline explore: give a scenario file or --generate (one of them)\n";
    return kExitBadInput;
  }
  Result<scenarios::Scenario> scenario =
      args.generate ? GeneratedCases(args.out_dir)(0) : scenarios::LoadScenarioFile(args.file);
  if (!scenario.ok()) {
    std::cerr << "faultline explore: " << scenario.status().message() << "\n";
    return kExitBadInput;
  }
  Result<search::Shard> shard = search::ParseShard(args.shard);
  if (!shard.ok()) {
    std::cerr << "faultline explore: " << shard.status().message() << "\n";
    return kExitBadInput;
  }
  search::ExploreOptions options;
  options.source =
      args.generate ? GeneratedCases(args.out_dir) : search::ScenarioFileSource(*scenario);
  options.source_label = args.generate ? "generated cases" : args.file;
  options.first_seed = args.first_seed;
  options.seeds = args.seeds;
  options.shard = *shard;
  options.jobs = args.jobs;
  if (args.time_budget > 0) options.time_budget_seconds = args.time_budget;
  options.switches = args.switches;
  options.det_every = args.det_every;
  options.guided = args.guided;
  options.isolate = args.isolate;
  options.guided_options.keep_below = args.keep_below;
  options.guided_options.mutant_dir = args.out_dir;
  std::unique_ptr<std::ofstream> jsonl;
  if (!args.json.empty()) {
    jsonl = std::make_unique<std::ofstream>(args.json, std::ios::binary | std::ios::trunc);
    if (!*jsonl) {
      std::cerr << "faultline explore: cannot write " << args.json << "\n";
      return kExitBadInput;
    }
  }
  report::SeedListing listing(kSeedsListed);
  if (jsonl || !args.html.empty()) {
    options.on_result = [&jsonl, &listing, html = !args.html.empty()](const search::SeedResult& r) {
      if (jsonl) *jsonl << search::SeedResultJson(r) << "\n";
      if (html) listing.Add(r);
    };
  }
  if (args.progress || isatty(STDERR_FILENO) == 1) {
    options.progress = [](uint64_t done, uint64_t total, uint64_t failing) {
      const int width = 30;
      const int filled = total ? static_cast<int>(width * done / total) : width;
      std::fprintf(stderr, "\rexplore [%.*s%*s] %llu/%llu seeds, %llu failing", filled,
                   "##############################", width - filled, "",
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                   static_cast<unsigned long long>(failing));
      if (done == total) std::fprintf(stderr, "\n");
      std::fflush(stderr);
    };
  }
  Result<search::ExploreReport> report = search::Explore(options);
  if (!report.ok()) {
    std::cerr << "faultline explore: " << report.status().message() << "\n";
    return kExitBadInput;
  }
  if (jsonl) {
    jsonl->close();
    if (!*jsonl) {
      std::cerr << "faultline explore: cannot write " << args.json << "\n";
      return kExitBadInput;
    }
  }
  std::fputs(search::FormatExploreReport(*report).c_str(), stdout);
  WriteFailingMutants(*report);
  if (!args.json.empty())
    std::printf("results      one JSON line per seed in %s\n", args.json.c_str());
  std::fflush(stdout);
  const std::map<std::string, std::string> replays =
      args.minimize ? MinimizeGroups(args, options.source, *report)
                    : std::map<std::string, std::string>{};
  if (!args.html.empty()) {
    const report::ExploreHtmlInput html{&*report, listing.Take(), listing.not_listed(), replays};
    std::string error;
    if (!WriteText(args.html, report::ExploreReportHtml(html), &error)) {
      std::cerr << "faultline explore: " << error << "\n";
      return kExitBadInput;
    }
    std::printf("report       HTML written to %s\n", args.html.c_str());
  }
  return report->clean() ? kExitClean : kExitFailing;
}

int MinimizeCommand(const MinimizeArgs& args) {
  Result<scenarios::Scenario> scenario = scenarios::LoadScenarioFile(args.file);
  if (!scenario.ok()) {
    std::cerr << "faultline minimize: " << scenario.status().message() << "\n";
    return kExitBadInput;
  }
  const uint64_t seed =
      args.has_seed ? args.seed : (scenario->spec.has_seed() ? scenario->spec.seed() : 1);
  const std::string out =
      args.out.empty() ? ReproducerPath(".", scenario->spec.name(), seed) : args.out;
  search::MinimizeOptions options;
  options.seed = seed;
  options.switches = args.switches;
  options.max_reruns = args.max_reruns;
  options.isolate = args.isolate;
  options.log = [](const std::string& line) { std::printf("minimize     %s\n", line.c_str()); };
  Result<search::MinimizeResult> m = search::Minimize(*scenario, options);
  if (!m.ok()) {
    std::cerr << "faultline minimize: " << m.status().message() << "\n";
    return m.status().code() == StatusCode::kFailedPrecondition ? kExitFailing : kExitBadInput;
  }
  std::string error;
  if (!WriteText(out, search::ReproducerText(*m, scenario->path), &error)) {
    std::cerr << "faultline minimize: " << error << "\n";
    return kExitBadInput;
  }
  std::printf("minimized    %zu faults -> %zu in %u reruns (%s)\n", m->entries_before,
              m->entries_after, m->reruns,
              m->one_minimal ? "1-minimal: removing any one fault loses the failure"
                             : "not proven 1-minimal (the rerun budget ran out)");
  if (m->made_explicit) {
    std::printf("explicit     the nemesis's faults as plan entries: %s\n",
                m->explicit_same_hash ? "the same trace hash" : "a different trace hash");
  }
  std::printf("written      %s\n", out.c_str());
  std::printf("replay       faultline run %s\n", out.c_str());
  return kExitClean;
}

}  // namespace faultline::cli
