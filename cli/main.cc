// The `faultline` command. CLI11 is included here only (it is a heavy header).
#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "base/build_info.h"
#include "simulator/chrome_trace.h"
#include "simulator/demo_world.h"

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
    faultline::sim::DemoOptions options;
    options.seed = args.seed + i;
    options.nodes = args.nodes;
    options.duration = faultline::Duration::Nanos(static_cast<int64_t>(args.seconds * 1e9));
    options.keep_trace = keep;
    faultline::sim::DemoWorld demo(options);
    const faultline::sim::DemoSummary summary = demo.Run();
    violations += summary.order_violations;
    if (args.hash_only) {
      std::printf("%" PRIu64 " %016" PRIx64 "\n", summary.seed, summary.trace_hash);
    } else {
      std::fputs(faultline::sim::FormatDemoSummary(summary).c_str(), stdout);
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
  return kExitOk;
}
