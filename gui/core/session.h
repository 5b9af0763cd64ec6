// A GUI session over one scenario and seed: a tree of branches. The scenario as written is
// branch 0; an action taken at a moment of a branch (crash a TaskManager, fail a task, an outage)
// becomes a fault-plan entry triggered at that moment, and the scenario with it is run again
// from time zero, deterministically: a new branch, its parent kept. A teaching switch toggled
// makes a branch from time zero with the switch set. Every branch has its scenario text and the
// command that replays it. Qt-free.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "gui/core/recording.h"
#include "gui/core/timeline.h"
#include "scenarios/scenario.pb.h"

namespace faultline::gui {

struct Branch {
  int id = 0;
  int parent = -1;  // -1: the scenario as written
  Time at;          // where it leaves its parent (its fault's trigger time; zero for a switch)
  std::string label;
  scenarios::proto::Scenario spec;
  std::vector<std::string> switches;
  std::unique_ptr<Recording> recording;
  std::unique_ptr<Timeline> timeline;
};

class Session {
 public:
  // Runs `path` at `seed` (unset: the scenario's own): branch 0.
  static Result<std::unique_ptr<Session>> Open(const std::string& path,
                                               std::optional<uint64_t> seed,
                                               std::vector<std::string> switches = {});
  // Opens a run `faultline run --export DIR` wrote: its scenario.textproto at the seed and with
  // the switches run.json names. The replay's trace hash is checked against the exported one;
  // a different hash (another build) is said in note(), not refused.
  static Result<std::unique_ptr<Session>> OpenExported(const std::string& dir);
  // What opening found worth saying (empty: nothing).
  const std::string& note() const { return note_; }

  const std::string& path() const { return path_; }
  uint64_t seed() const { return seed_; }
  int size() const { return static_cast<int>(branches_.size()); }
  const Branch& branch(int id) const { return *branches_.at(static_cast<size_t>(id)); }
  Branch& branch(int id) { return *branches_.at(static_cast<size_t>(id)); }

  // A new branch of `from`: its scenario with `fault` triggered at `at` (its trigger is set
  // here), run from zero. The fault is validated as a scenario entry (an error names it).
  Result<int> BranchWithFault(int from, Time at, scenarios::proto::Fault fault, std::string label);
  // A new branch of `from` from time zero with teaching switch `name` turned on or off.
  Result<int> BranchWithSwitch(int from, const std::string& name, bool on);

  // The checkers on the run so far: branch `id` run again (deterministically, so the same trace)
  // with its run limit at `until`, and judged as a run that ended there (a job still running
  // leaves output checks INCONCLUSIVE; completed checkpoints, durability, recovery and
  // transactions are judged). `until` must be after time zero.
  // The recording returned holds the prefix's records and the report with the verdicts.
  Result<Recording> CheckPrefix(int id, Time until) const;

  // A new branch of `from` from time zero with the checkpoint mode `mode` (aligned, unaligned,
  // at-least-once). A teaching switch of the parent that does not apply to the new mode makes
  // it an error that names the switch.
  Result<int> BranchWithMode(int from, scenarios::proto::Checkpointing::Mode mode);

  // The branch's scenario as a textproto (branch 0: the file as loaded, re-printed).
  std::string ScenarioText(int id) const;
  // What reproduces the branch: branch 0, the `faultline run` command of the file; any other,
  // the command for its scenario saved under `file`.
  std::string ReproduceCommand(int id, const std::string& file = "branch.textproto") const;
  // The branch's scenario text headed by the command that replays it (the clipboard's "copy
  // reproducer").
  std::string Reproducer(int id) const;

 private:
  Result<int> Add(int parent, Time at, std::string label, scenarios::proto::Scenario spec,
                  std::vector<std::string> switches);

  std::string path_;
  uint64_t seed_ = 0;
  std::string note_;
  std::vector<std::unique_ptr<Branch>> branches_;
};

// A fault a person can take at a moment: crash TaskManager `node` (restarting after
// `restart_after`, or never), crash the JobManager, fail the task named `task`, a blob-store
// outage of `duration`.
scenarios::proto::Fault CrashTaskManagerFault(uint32_t node, std::optional<Duration> restart_after);
scenarios::proto::Fault CrashJobManagerFault(Duration restart_after);
scenarios::proto::Fault FailTaskFault(const std::string& task);
scenarios::proto::Fault BlobOutageFault(Duration duration);
// A network partition between the nodes `side_a` and `side_b`, healing after `heal_after`
// (never when unset).
scenarios::proto::Fault PartitionFault(std::vector<uint32_t> side_a, std::vector<uint32_t> side_b,
                                       std::optional<Duration> heal_after);
// The link between nodes `a` and `b` slowed by `extra_latency` for `duration`.
scenarios::proto::Fault SlowLinkFault(uint32_t a, uint32_t b, Duration extra_latency,
                                      Duration duration);

}  // namespace faultline::gui
