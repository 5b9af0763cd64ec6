// Running a scenario: its job (or a user's own job) on its simulated world, under its fault plan
// and nemesis, then its checkers; the result is a report with the verdict, its evidence, what
// happened on the way (checkpoints, faults, recoveries), the trace hash and the one command that
// reproduces the run.
//
//   Result<scenarios::Scenario> s = scenarios::LoadScenarioFile("scenarios/library/x.textproto");
//   Result<scenarios::RunReport> report = scenarios::RunScenario(*s, {});
//   std::cout << scenarios::FormatReport(*report);   // report->as_expected() for the exit code
//
// A user's job: scenarios::RunJob(my_job_graph, *s, options) runs the job built with the job API
// under the scenario's world, checkpointing, fault plan and checkers, with the scenario's source
// log (docs/scenarios.md "Testing your own job").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "checkers/verdict.h"
#include "engine/api/job.h"
#include "engine/exec/job_manager.h"
#include "faults/fault_plan.h"
#include "scenarios/loader.h"
#include "simulator/trace.h"

namespace faultline::scenarios {

struct RunOptions {
  std::optional<uint64_t> seed;  // overrides the scenario's seed
  std::string trace_json;        // write the Chrome / Perfetto trace here
  std::string export_dir;        // write the run's data as JSON Lines here (docs/scenarios.md)
  // Checkers to run besides the scenario's (e.g. "DET"); an unknown id or one that cannot judge
  // this run's mode is an InvalidArgument error.
  std::vector<std::string> also_check;
  // Teaching switches to turn on besides the scenario's own (engine/exec/config.h); the run is
  // validated with them (a switch that does not apply to the scenario's mode is an error), and
  // the reproduce command names them (--switch).
  std::vector<std::string> switches;
  // Called every few thousand simulated events with the simulated time reached (for a
  // progress line); it must not touch the run.
  std::function<void(Time now, Time limit)> progress;
  // Sees every trace record of the run (not of DET's second run), as tests assert where a fault
  // fell; an observer only observes (sim::TraceObserver), so the run and its hash are the same.
  sim::TraceObserver* trace_observer = nullptr;
  // Called once the run is simulated, before the checkers, with its job setup (the job graph,
  // every plan generation, the cluster): what a viewer needs to lay out the run's tasks.
  std::function<void(const engine::JobSetup&)> setup_observer;
  // Sees how buffers move through the tasks' queues and the network (engine/exec/observer.h),
  // for a viewer; its `clock` is set to the world's clock. Like trace_observer, not DET's run.
  engine::FlowObserver* flow_observer = nullptr;
  // Stop at the run limit exactly, without the settling time a run gets after it (2 simulated
  // seconds for notifications to land): the run is then a prefix of the same run with a later
  // limit, record for record (faultline-gui's "check the run so far").
  bool stop_at_limit = false;
};

// One checkpoint as the run's trace shows it, across JobManager failovers.
struct CheckpointRecord {
  uint64_t id = 0;
  enum class Outcome { kInProgress, kCompleted, kAborted } outcome = Outcome::kInProgress;
  bool final = false;
  bool savepoint = false;  // a savepoint (its blobs under savepoints/sp-<id>/)
  bool stop = false;       // a stop-with-savepoint
  Time triggered;
  Time ended;
  uint64_t state_bytes = 0;         // uploaded by the tasks
  uint32_t alignment_timeouts = 0;  // tasks that switched it to unaligned
  std::string reason;               // aborted: why
};

struct RecoveryRecord {
  Time at;
  uint64_t attempt = 0;   // the attempt it started
  std::string reason;     // why the job restarted
  uint64_t restored = 0;  // checkpoint restored (0: none, started from scratch)
  bool has_restored = false;
  bool savepoint = false;  // `restored` is a savepoint (a resume, or a stop-with-savepoint's)
};

// What a recovery restored: "checkpoint 7", "savepoint 4", "scratch" or "(not deployed)".
std::string RestoredName(const RecoveryRecord& recovery);

struct FaultRecord {
  Time at;
  std::string what;  // "crash node 2", "blob-put error on checkpoints/chk-3/..."
};

struct RunReport {
  std::string path;
  std::string name;
  std::string description;
  uint64_t seed = 0;
  std::string job_summary;    // one line: the pipeline and its parallelism
  std::string world_summary;  // one line: cluster and checkpointing
  std::string varied;         // the settings this seed drew (`vary`); empty: none
  Duration run_limit;
  Time ended;               // simulated time at the end
  double wall_seconds = 0;  // what the run took here
  engine::JobStatus status = engine::JobStatus::kStarting;
  std::string failure;  // the job's failure, when it failed
  uint64_t source_records = 0;
  uint64_t committed_records = 0;

  std::vector<CheckpointRecord> checkpoints;
  std::vector<RecoveryRecord> recoveries;
  std::vector<FaultRecord> faults;              // injected, in time order
  uint64_t faults_dropped = 0;                  // beyond the kept list
  std::vector<std::string> fault_plan_unfired;  // plan entries whose trigger never fired
  // Of those, the ones a fault explains: their checkpoint was left behind after a fault fired
  // (a failover skipped or aborted it), as "name (why)".
  std::vector<std::string> fault_plan_overtaken;
  // And the ones the job's end explains: still waiting when the finished job's run ended (an
  // `at` time or a delay due after it, an event the job did not reach as often as the trigger
  // waits for), as "name (why)".
  std::vector<std::string> fault_plan_after_end;

  std::vector<checkers::Verdict> verdicts;
  enum class Outcome { kPass, kViolation, kInconclusive } outcome = Outcome::kPass;
  std::string outcome_detail;  // the violated checker, or why inconclusive
  // INCONCLUSIVE: the reasons no fault the scenario planned explains (empty: each is explained,
  // e.g. by a blob an injected fault destroyed, or a node crashed for good).
  std::vector<std::string> unexplained;
  std::vector<std::string> warnings;  // e.g. a checkers list without the output checker
  // The coverage markers the run hit (checkers/markers.h), in catalogue order.
  std::vector<std::string> markers;
  // The faults the nemesis fired, as plan entries (faults::FaultReport::nemesis_entries).
  std::vector<faults::PlanEntry> nemesis_entries;
  proto::Expectation expected;

  uint64_t trace_hash = 0;
  uint64_t trace_records = 0;
  std::string build_identity;
  std::string reproduce;  // the command that reproduces this run

  bool as_expected() const;
};

std::string_view OutcomeName(RunReport::Outcome outcome);
// The command that replays a run: "faultline run <path> --seed N [--switch S ...]".
std::string ReproduceCommand(const std::string& path, uint64_t seed,
                             const std::vector<std::string>& switches);

// Runs the scenario's own job.
Result<RunReport> RunScenario(const Scenario& scenario, const RunOptions& options);

// Runs `job` (built with the job API: sources read partitions of the scenario's source log)
// under the scenario's world, checkpointing, faults and checkers. The scenario's own job is
// ignored, except that its source log is generated from its source operator.
Result<RunReport> RunJob(const engine::JobGraph& job, const Scenario& scenario,
                         const RunOptions& options);

// What a scenario expects, as the report says it: "PASS", "INCONCLUSIVE", "VIOLATION of EO-OUT".
std::string ExpectedString(const proto::Expectation& e);

// The human report, and the same as JSON.
std::string FormatReport(const RunReport& report);
std::string ReportJson(const RunReport& report);

}  // namespace faultline::scenarios
