// libFuzzer target for the scenario loader: text format parsing, semantic validation and the
// conversions of a valid scenario. Bad input must be answered with INVALID_ARGUMENT, never a
// crash, a hang or a sanitizer report; a scenario the loader accepts must convert, and the
// engine must accept what the conversions produce.
//
// Built two ways (tests/fuzz/CMakeLists.txt): with clang and -fsanitize=fuzzer,address,undefined
// as `scenario_fuzz` (scripts/fuzz.sh), and with the normal build as part of
// `scenario_fuzz_replay`, which feeds it every file of tests/fuzz/corpus/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/exec/cluster.h"
#include "scenarios/loader.h"

namespace {

using faultline::Status;
using faultline::StatusCode;

[[noreturn]] void Broken(const char* what, const Status& status) {
  std::fprintf(stderr, "scenario_fuzz: %s: %s\n", what, status.ToString().c_str());
  std::abort();
}

// FAULTLINE_FUZZ_VERBOSE=1: print the loader's answer to each input (for writing seeds).
bool Verbose() {
  static const bool verbose = std::getenv("FAULTLINE_FUZZ_VERBOSE") != nullptr;
  return verbose;
}

void Run(std::string_view text) {
  namespace scenarios = faultline::scenarios;
  auto parsed = scenarios::ParseScenario(text, "fuzz.textproto");
  if (Verbose()) {
    std::fprintf(stderr, "%s\n", parsed.ok() ? "valid" : parsed.status().ToString().c_str());
  }
  if (!parsed.ok()) {
    // Every refusal is INVALID_ARGUMENT with a message.
    if (parsed.status().code() != StatusCode::kInvalidArgument ||
        parsed.status().message().empty()) {
      Broken("ParseScenario answered an unexpected status", parsed.status());
    }
    return;
  }
  const scenarios::proto::Scenario& spec = parsed->spec;
  // A parsed scenario is valid, and validating it again (without the text) agrees.
  if (Status s = scenarios::ValidateScenario(spec); !s.ok()) {
    Broken("ValidateScenario refused what ParseScenario accepted", s);
  }
  auto graph = scenarios::ToJobGraph(spec);
  if (!graph.ok()) Broken("ToJobGraph failed on a valid scenario", graph.status());
  auto world = scenarios::ToJobWorldOptions(spec);
  if (!world.ok()) Broken("ToJobWorldOptions failed on a valid scenario", world.status());
  if (!scenarios::RunLimit(spec).ok()) Broken("RunLimit failed on a valid scenario", Status::Ok());
  (void)scenarios::EnabledCheckers(spec);
  auto config = scenarios::ToEngineConfig(spec);
  if (!config.ok()) {
    // Only the settings this build lacks (incremental checkpoints).
    if (config.status().code() != StatusCode::kUnimplemented) {
      Broken("ToEngineConfig failed on a valid scenario", config.status());
    }
    return;
  }
  // The engine accepts what the loader validated: the job, its plan over the cluster.
  faultline::engine::ClusterSpec cluster;
  for (uint32_t tm = 1; tm <= world->task_managers; ++tm) cluster.task_managers.push_back(tm);
  auto setup = faultline::engine::PrepareJob(*graph, *config, cluster);
  if (!setup.ok() && setup.status().code() != StatusCode::kUnimplemented) {
    Broken("the engine refused a valid scenario", setup.status());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
