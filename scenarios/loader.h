// Scenario files: loading, validation, and conversion to the engine's and the simulator's types.
//
// A scenario file is a faultline.scenario.Scenario (scenarios/scenario.proto) in protobuf text
// format; docs/scenarios.md documents every field. Bad input is answered with an
// INVALID_ARGUMENT status, never a crash:
//
//   syntax errors      "file:line:column: <what was expected>"            (1-based)
//   semantic errors    "file:line:column: <field path>: <what is wrong>"  e.g.
//                      "s.textproto:12:5: job.operators[2].parallelism: 8 is above
//                       max_parallelism 4"
//
// The line and column of a semantic error are those of the field named (or of its nearest
// enclosing field written in the file; "file: <field path>: ..." when none is).
// ValidateScenario answers "<field path>: <what is wrong>" alone.
//
// Durations are strings: "250ms", "1.5s", "2m" (ns, us, ms, s, m, h; "0" is zero).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "engine/api/job.h"
#include "engine/exec/config.h"
#include "engine/exec/plan.h"
#include "scenarios/duration.h"  // ParseDuration
#include "scenarios/scenario.pb.h"
#include "simulator/job_world.h"

namespace faultline::scenarios {

namespace proto = ::faultline::scenario;

// A parsed and validated scenario, with the file it came from.
struct Scenario {
  std::string path;  // as given to the loader ("<text>" name for ParseScenario)
  proto::Scenario spec;
};

// Reads, parses and validates a scenario file. NotFound when the file cannot be read.
Result<Scenario> LoadScenarioFile(const std::string& path);
// Parses and validates scenario text; `filename` prefixes error messages.
Result<Scenario> ParseScenario(std::string_view text, std::string_view filename);

// Semantic validation of a parsed scenario: OK, or INVALID_ARGUMENT "<field path>: <what>".
Status ValidateScenario(const proto::Scenario& scenario);

// --- conversion (each validates the scenario first) ------------------------------------------

// The job, built with engine::JobBuilder from the operator catalogue.
Result<engine::JobGraph> ToJobGraph(const proto::Scenario& scenario);
// Checkpointing, restart strategy, network buffers, heartbeats and teaching switches.
Result<engine::EngineConfig> ToEngineConfig(const proto::Scenario& scenario);
// Seed, network, services, disks, task managers and source partitions.
Result<sim::JobWorldOptions> ToJobWorldOptions(const proto::Scenario& scenario);

// The source log the scenario describes, partition by partition (pure function of the
// scenario; the seed does not change it). Empty for an invalid scenario.
std::vector<std::vector<engine::Record>> GenerateSourceLog(const proto::Scenario& scenario);

// The run limit (default 60s), or an error for an invalid value.
Result<Duration> RunLimit(const proto::Scenario& scenario);

// The checkers the scenario runs: those listed, or, when none is, the defaults of its mode
// (EO-OUT, EO-CUT for exactly-once modes, AL-LOSS for at-least-once; DUR, REC, LIVE always;
// TXN with a two-phase-commit sink).
std::vector<std::string> EnabledCheckers(const proto::Scenario& scenario);

// Warnings about a `checkers:` list that leaves out the checker of the mode's output promise
// (EO-OUT in exactly-once modes, AL-LOSS in at-least-once): a PASS then says nothing about the
// output. Empty when the scenario lists no checkers (the defaults include it).
std::vector<std::string> CheckerWarnings(const proto::Scenario& scenario);

// Every checker id of ORACLES.md, in its order.
const std::vector<std::string_view>& KnownCheckers();

// The task a fault targets: a task name of the plan ("sum+out#2"), or "<operator>#<i>" for
// subtask i of an operator, resolved to the task whose chain runs it. nullopt: no such subtask.
std::optional<uint32_t> ResolveSubtask(const engine::JobGraph& job,
                                       const engine::ExecutionPlan& plan, std::string_view name);

}  // namespace faultline::scenarios
