// The `faultline` command. CLI11 is included here only (it is a heavy header).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "base/build_info.h"
#include "cli/explore_command.h"
#include "cli/soak_command.h"
#include "examples/demo_world.h"
#include "report/html_report.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "simulator/chrome_trace.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUnexpected = 1;
constexpr int kExitBadInput = 2;

struct DemoArgs {
  uint64_t seed = 1;
  uint64_t count = 1;
  uint32_t nodes = 4;
  double seconds = 5.0;
  std::string trace_json;
  std::string trace_text;
  bool hash_only = false;
};

// A 64-bit unsigned integer written in decimal digits only (CLI11 would accept "-3" and wrap).
const CLI::Validator kUnsigned64(
    [](std::string& text) -> std::string {
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
        return "expected an unsigned integer, got '" + text + "'";
      }
      if (text.size() > 20 || (text.size() == 20 && text > "18446744073709551615")) {
        return "'" + text + "' is larger than 18446744073709551615";
      }
      return {};
    },
    "UINT64");

bool WriteFile(const std::string& path, const std::string& content, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    *error = "cannot open " + path + " for writing";
    return false;
  }
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) {
    *error = "failed writing " + path;
    return false;
  }
  return true;
}

int RunSimDemo(const DemoArgs& args) {
  if (args.count > 1 && (!args.trace_json.empty() || !args.trace_text.empty())) {
    std::cerr << "faultline sim-demo: --trace and --trace-text take a single run (--count 1)\n";
    return kExitBadInput;
  }
  const bool keep = !args.trace_json.empty() || !args.trace_text.empty();
  uint64_t violations = 0;
  for (uint64_t i = 0; i < args.count; ++i) {
    faultline::demo::DemoOptions options;
    options.seed = args.seed + i;
    options.nodes = args.nodes;
    options.duration = faultline::Duration::Nanos(static_cast<int64_t>(args.seconds * 1e9));
    options.keep_trace = keep;
    faultline::demo::DemoWorld demo(options);
    const faultline::demo::DemoSummary summary = demo.Run();
    violations += summary.order_violations;
    if (args.hash_only) {
      std::printf("%" PRIu64 " %016" PRIx64 "\n", summary.seed, summary.trace_hash);
    } else {
      std::fputs(faultline::demo::FormatDemoSummary(summary).c_str(), stdout);
    }
    std::string error;
    if (!args.trace_json.empty()) {
      std::vector<std::string> names;
      for (uint32_t n = 0; n < demo.world().node_count(); ++n) {
        names.push_back(demo.world().NodeName(n));
      }
      if (!WriteFile(args.trace_json,
                     faultline::sim::ToChromeTraceJson(demo.world().trace().records(), names),
                     &error)) {
        std::cerr << "faultline sim-demo: " << error << "\n";
        return kExitBadInput;
      }
      std::printf("  trace    Chrome trace JSON written to %s (open it in ui.perfetto.dev)\n",
                  args.trace_json.c_str());
    }
    if (!args.trace_text.empty()) {
      if (!WriteFile(args.trace_text, faultline::sim::FormatTrace(demo.world().trace().records()),
                     &error)) {
        std::cerr << "faultline sim-demo: " << error << "\n";
        return kExitBadInput;
      }
      std::printf("  trace    text dump written to %s\n", args.trace_text.c_str());
    }
  }
  std::fflush(stdout);
  return violations == 0 ? kExitOk : kExitUnexpected;
}

struct RunArgs {
  std::string file;
  std::string seed;  // empty: the scenario's
  std::string trace_json;
  std::string report_json;
  std::string html;
  std::string export_dir;
  std::vector<std::string> also_check;
  std::vector<std::string> switches;
  bool quiet = false;
};

// A progress line on a terminal, for runs longer than a second (stderr, overwritten in place).
class Progress {
 public:
  Progress() : enabled_(isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}
  void Update(faultline::Time now, faultline::Time limit) {
    if (!enabled_) return;
    const auto wall = std::chrono::steady_clock::now() - start_;
    if (wall < std::chrono::seconds(1) || wall - last_ < std::chrono::milliseconds(200)) return;
    last_ = wall;
    std::fprintf(stderr, "\r  running: simulated %s of at most %s ...   ", now.ToString().c_str(),
                 (limit - faultline::Time::Zero()).ToString().c_str());
    shown_ = true;
  }
  ~Progress() {
    if (shown_) std::fprintf(stderr, "\r%70s\r", "");
  }

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::duration last_{};
  bool shown_ = false;
};

int RunScenarioCommand(const RunArgs& args) {
  using faultline::scenarios::LoadScenarioFile;
  auto scenario = LoadScenarioFile(args.file);
  if (!scenario.ok()) {
    std::cerr << "faultline run: " << scenario.status().message() << "\n";
    return kExitBadInput;
  }
  faultline::scenarios::RunOptions options;
  if (!args.seed.empty()) options.seed = std::strtoull(args.seed.c_str(), nullptr, 10);
  options.trace_json = args.trace_json;
  options.export_dir = args.export_dir;
  options.also_check = args.also_check;
  options.switches = args.switches;
  auto progress = std::make_unique<Progress>();
  options.progress = [&progress](faultline::Time now, faultline::Time limit) {
    progress->Update(now, limit);
  };
  auto report = faultline::scenarios::RunScenario(*scenario, options);
  progress.reset();
  if (!report.ok()) {
    std::cerr << "faultline run: " << report.status().ToString() << "\n";
    return report.status().code() == faultline::StatusCode::kInvalidArgument ||
                   report.status().code() == faultline::StatusCode::kUnimplemented
               ? kExitBadInput
               : kExitUnexpected;
  }
  std::fputs(faultline::scenarios::FormatReport(*report).c_str(), stdout);
  std::string error;
  if (!args.report_json.empty() &&
      !WriteFile(args.report_json, faultline::scenarios::ReportJson(*report), &error)) {
    std::cerr << "faultline run: " << error << "\n";
    return kExitBadInput;
  }
  if (!args.report_json.empty())
    std::printf("report       JSON written to %s\n", args.report_json.c_str());
  if (!args.html.empty()) {
    if (!WriteFile(args.html, faultline::report::RunReportHtml(*report), &error)) {
      std::cerr << "faultline run: " << error << "\n";
      return kExitBadInput;
    }
    std::printf("report       HTML written to %s\n", args.html.c_str());
  }
  if (!args.trace_json.empty()) {
    std::printf("trace file   Chrome trace JSON written to %s (open it in ui.perfetto.dev)\n",
                args.trace_json.c_str());
  }
  if (!args.export_dir.empty()) {
    std::printf("export       source_log.jsonl, committed.jsonl, checkpoints.jsonl in %s\n",
                args.export_dir.c_str());
  }
  std::fflush(stdout);
  return report->as_expected() ? kExitOk : kExitUnexpected;
}

std::vector<std::filesystem::path> ScenarioFiles(const std::string& dir, std::string* error) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".textproto") files.push_back(entry.path());
  }
  if (ec) *error = "cannot list " + dir + ": " + ec.message();
  std::sort(files.begin(), files.end());
  return files;
}

int ListCommand(const std::string& dir) {
  std::string error;
  const auto files = ScenarioFiles(dir, &error);
  if (!error.empty()) {
    std::cerr << "faultline list: " << error << "\n";
    return kExitBadInput;
  }
  int bad = 0;
  for (const auto& path : files) {
    auto scenario = faultline::scenarios::LoadScenarioFile(path.string());
    if (!scenario.ok()) {
      std::printf("%-44s  (invalid: %s)\n", path.filename().string().c_str(),
                  std::string(scenario.status().message()).c_str());
      ++bad;
      continue;
    }
    const auto& spec = scenario->spec;
    std::string expect = spec.expect().verdict() == faultline::scenario::Expectation::VIOLATION
                             ? "expects " + spec.expect().checker()
                         : spec.expect().verdict() == faultline::scenario::Expectation::INCONCLUSIVE
                             ? "expects inconclusive"
                             : "expects pass";
    std::string line = spec.description().substr(0, spec.description().find('\n'));
    std::printf("%-44s  %-21s %s\n", path.filename().string().c_str(), expect.c_str(),
                line.c_str());
  }
  std::printf("%zu scenarios in %s; run one with: faultline run %s/<file>\n", files.size(),
              dir.c_str(), dir.c_str());
  return bad == 0 ? kExitOk : kExitBadInput;
}

int CheckCommand(const std::vector<std::string>& files) {
  int bad = 0;
  for (const std::string& file : files) {
    auto scenario = faultline::scenarios::LoadScenarioFile(file);
    if (!scenario.ok()) {
      std::cerr << scenario.status().message() << "\n";
      ++bad;
      continue;
    }
    // Conversion catches what validation alone cannot (settings this build lacks).
    auto job = faultline::scenarios::ToJobGraph(scenario->spec);
    auto config = faultline::scenarios::ToEngineConfig(scenario->spec);
    if (!job.ok() || !config.ok()) {
      std::cerr << file << ": " << (!job.ok() ? job.status() : config.status()).message() << "\n";
      ++bad;
      continue;
    }
    std::printf("%s: OK (%s)\n", file.c_str(), scenario->spec.name().c_str());
  }
  return bad == 0 ? kExitOk : kExitBadInput;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "faultline: a deterministic simulator for testing the fault tolerance of stateful stream "
      "processing.\nSame seed + scenario + build => the same trace hash.",
      "faultline"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");

  app.add_subcommand("version", "Print the build identity (version, commit, compiler)")
      ->callback([] { std::printf("%s\n", faultline::BuildIdentity().c_str()); });

  DemoArgs demo;
  CLI::App* sim_demo = app.add_subcommand(
      "sim-demo",
      "Run the kernel demo: processes exchanging messages over back-pressured channels under "
      "crashes, partitions, pauses and clock skew; print a summary and the trace hash");
  sim_demo->add_option("--seed", demo.seed, "Seed of the run (any 64-bit unsigned integer)")
      ->check(kUnsigned64)
      ->capture_default_str();
  sim_demo->add_option("--count", demo.count, "Run this many consecutive seeds from --seed")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}))
      ->capture_default_str();
  sim_demo->add_option("--nodes", demo.nodes, "Number of processes")
      ->check(CLI::Range(2u, 32u))
      ->capture_default_str();
  sim_demo->add_option("--seconds", demo.seconds, "Simulated seconds to run")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  sim_demo->add_option("--trace", demo.trace_json,
                       "Write the trace as Chrome Trace Event JSON (opens in Perfetto)");
  sim_demo->add_option("--trace-text", demo.trace_text,
                       "Write the trace as text, one record a line");
  sim_demo->add_flag("--hash-only", demo.hash_only, "Print only 'seed hash' per run");

  RunArgs run;
  CLI::App* run_cmd = app.add_subcommand(
      "run",
      "Run a scenario file: its job on its simulated world under its fault plan, then its "
      "checkers; print the report, the verdict and the command that reproduces the run. Exit 0 "
      "when the verdict is the expected one, 1 when not, 2 on bad input");
  run_cmd->add_option("file", run.file, "The scenario (.textproto)")->required();
  run_cmd->add_option("--seed", run.seed, "Seed of the run (default: the scenario's)")
      ->check(kUnsigned64);
  run_cmd->add_option("--trace", run.trace_json,
                      "Write the trace as Chrome Trace Event JSON (opens in Perfetto)");
  run_cmd->add_option("--report", run.report_json, "Write the report as JSON");
  run_cmd->add_option("--html", run.html,
                      "Write the report as one self-contained HTML page: checkpoint duration and "
                      "size over simulated time with fault windows shaded, recoveries, violations, "
                      "verdicts, coverage markers (no script, no network; docs/reports.md)");
  run_cmd->add_option("--check", run.also_check,
                      "Also run this checker (repeatable), e.g. --check DET runs the scenario "
                      "twice and compares the trace hashes");
  run_cmd->add_option("--switch", run.switches,
                      "Also turn on this teaching switch (repeatable): plant its mistake in the "
                      "engine, as `faultline explore --switch` does");
  run_cmd->add_option("--export", run.export_dir,
                      "Write the source log, the committed output and the completed "
                      "checkpoints as JSON Lines into this directory");

  std::string list_dir = FAULTLINE_SCENARIO_LIBRARY_DIR;
  CLI::App* list_cmd =
      app.add_subcommand("list", "List the scenario library, one line per scenario");
  list_cmd->add_option("--dir", list_dir, "The directory to list")->capture_default_str();

  std::vector<std::string> check_files;
  CLI::App* check_cmd = app.add_subcommand(
      "check", "Validate scenario files without running them (exit 2 on the first bad one)");
  check_cmd->add_option("files", check_files, "Scenario files")->required();

  faultline::cli::SoakArgs soak;
  soak.dir = FAULTLINE_SOAK_DIR;
  CLI::App* soak_cmd = app.add_subcommand(
      "soak",
      "Run scenarios over a range of seeds in parallel (default: the soak scenarios, one per "
      "checkpointing mode, each seed with its own faults and checkpoint settings); report every "
      "violation and every inconclusive run no planned fault explains, grouped, with the command "
      "that reproduces it. Exit 0 when clean, 1 when a run failed, 2 on bad input");
  soak_cmd->add_option("files", soak.files, "Scenario files (default: every file in --dir)");
  soak_cmd->add_option("--dir", soak.dir, "The soak scenarios")->capture_default_str();
  soak_cmd->add_option("--first-seed", soak.first_seed, "The first seed of the range")
      ->check(kUnsigned64)
      ->capture_default_str();
  soak_cmd->add_option("--seeds", soak.seeds, "Seeds per scenario")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}))
      ->capture_default_str();
  soak_cmd->add_option("--jobs,-j", soak.jobs, "Runs at once (default: one per hardware thread)")
      ->check(CLI::Range(1u, 1024u));
  soak_cmd->add_option("--list", soak.list, "Failing runs to list in full")->capture_default_str();
  soak_cmd->add_option("--report", soak.report_json, "Write the soak report as JSON");
  soak_cmd->add_flag("--progress", soak.progress,
                     "Print a progress line on stderr (default: when stderr is a terminal)");
  soak_cmd->add_flag("!--no-isolate", soak.isolate,
                     "Run on threads of this process, not each run in a worker process: a run "
                     "that crashes then ends the soak");

  faultline::cli::ExploreArgs explore;
  CLI::App* explore_cmd = app.add_subcommand(
      "explore",
      "Run many seeds of a scenario in parallel: a JSON line per seed, the coverage markers "
      "reached, failures grouped by checker and property, and the first failure of each group "
      "minimized to a reproducer. Exit 0 when every seed is clean, 1 when one failed, 2 on bad "
      "input");
  explore_cmd->add_option("file", explore.file, "The scenario (.textproto)");
  explore_cmd->add_flag("--generate", explore.generate,
                        "Generated cases instead of a file: each seed its own scenario");
  explore_cmd->add_option("--first-seed", explore.first_seed, "The first seed of the range")
      ->check(kUnsigned64)
      ->capture_default_str();
  explore_cmd->add_option("--seeds", explore.seeds, "Seeds in the range")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000}))
      ->capture_default_str();
  explore_cmd->add_option("--jobs,-j", explore.jobs, "Runs at once (default: one per core)")
      ->check(CLI::Range(1u, 1024u));
  explore_cmd
      ->add_option("--shard", explore.shard,
                   "Run shard K of N (a contiguous block of the range); shard outputs "
                   "concatenate to the unsharded output")
      ->capture_default_str();
  explore_cmd
      ->add_option("--time-budget", explore.time_budget,
                   "Stop starting seeds after this many seconds (wall time)")
      ->check(CLI::Range(0.0, 1e7));
  explore_cmd->add_option("--json", explore.json, "Write one JSON line per seed here");
  explore_cmd->add_option("--html", explore.html,
                          "Write the summary as one self-contained HTML page: verdict counts, "
                          "failure groups with their commands, coverage-marker rates, a row per "
                          "seed (no script, no network; docs/reports.md)");
  explore_cmd->add_option("--switch", explore.switches,
                          "Turn on this teaching switch in every case (repeatable)");
  explore_cmd->add_option("--det-every", explore.det_every,
                          "Rerun every Nth seed and fail on a trace-hash mismatch (DET)");
  explore_cmd->add_flag("!--no-minimize", explore.minimize, "Do not minimize the failures found");
  explore_cmd->add_flag("--guided", explore.guided,
                        "Coverage-guided: keep runs that reach rare markers and mutate their "
                        "fault plans; --seeds bounds all runs (docs/search.md)");
  explore_cmd
      ->add_option("--keep-below", explore.keep_below,
                   "--guided: keep a run reaching a marker or marker pair that fewer than this "
                   "many kept inputs reached")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  explore_cmd->add_option("--out-dir", explore.out_dir, "Where minimized reproducers are written")
      ->capture_default_str();
  explore_cmd->add_option("--max-reruns", explore.max_reruns, "Rerun budget per minimization")
      ->check(CLI::Range(1u, 100'000u))
      ->capture_default_str();
  explore_cmd->add_flag("--progress", explore.progress,
                        "Print a progress bar on stderr (default: when stderr is a terminal)");
  explore_cmd->add_flag("!--no-isolate", explore.isolate,
                        "Run seeds on threads of this process, not each in a child process: "
                        "a run that crashes then ends the exploration");

  faultline::cli::MinimizeArgs minimize;
  std::string minimize_seed;
  CLI::App* minimize_cmd = app.add_subcommand(
      "minimize",
      "Cut a failing run down to a minimal reproducer: the nemesis's faults made explicit, then "
      "delta debugging over the fault plan, then smaller jobs and inputs. Writes the reproducer "
      "scenario and prints the command that replays it. Exit 0 when written, 1 when the run does "
      "not fail, 2 on bad input");
  minimize_cmd->add_option("file", minimize.file, "The scenario (.textproto)")->required();
  minimize_cmd->add_option("--seed", minimize_seed, "The failing seed (default: the scenario's)")
      ->check(kUnsigned64);
  minimize_cmd->add_option("--switch", minimize.switches,
                           "Turn on this teaching switch (repeatable)");
  minimize_cmd->add_option("--out,-o", minimize.out,
                           "The reproducer file (default: ./<name>-seed<N>.min.textproto)");
  minimize_cmd->add_option("--max-reruns", minimize.max_reruns, "Rerun budget")
      ->check(CLI::Range(1u, 100'000u))
      ->capture_default_str();
  minimize_cmd->add_flag("!--no-isolate", minimize.isolate,
                         "Rerun in this process, not each rerun in a child process: a rerun "
                         "that crashes then ends the minimization");

  auto is_command = [&app](const std::string& name) {
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      if (sub->get_name() == name) return true;
    }
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !is_command(argv[1])) {
    std::cerr << "faultline: unknown command '" << argv[1]
              << "'\nRun 'faultline --help' for the list of commands.\n";
    return kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::cerr << "faultline: " << e.what() << "\nRun 'faultline --help' for usage.\n";
    return kExitBadInput;
  }
  if (sim_demo->parsed()) return RunSimDemo(demo);
  if (run_cmd->parsed()) return RunScenarioCommand(run);
  if (list_cmd->parsed()) return ListCommand(list_dir);
  if (check_cmd->parsed()) return CheckCommand(check_files);
  if (soak_cmd->parsed()) return faultline::cli::SoakCommand(soak);
  if (explore_cmd->parsed()) return faultline::cli::ExploreCommand(explore);
  if (minimize_cmd->parsed()) {
    minimize.has_seed = !minimize_seed.empty();
    if (minimize.has_seed) minimize.seed = std::strtoull(minimize_seed.c_str(), nullptr, 10);
    return faultline::cli::MinimizeCommand(minimize);
  }
  return kExitOk;
}
