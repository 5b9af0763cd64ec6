// The one interface to every checker of ORACLES.md: gather a finished run once (RecordRun),
// then ask any checker by its id (RunChecker). Each returns a Verdict naming the first violation
// with its evidence (record, key, checkpoint, blob, transaction, simulated time) and counting
// the rest; notes say what a checker could not judge.
//
//   checkers::OrderLog order(...);              // EngineConfig::observer, before Create
//   auto jw = sim::JobWorld::Create(job, config, options).value();
//   checkers::RunRecorder recorder(*jw);
//   jw->world().trace().AddObserver(&recorder);  // before Start
//   jw->Start();
//   jw->RunUntilDone(limit);
//   jw->world().trace().RemoveObserver(&recorder);
//   checkers::RunRecord run = checkers::RecordRun(*jw, recorder, &order).value();
//   for (const std::string& id : checkers::DefaultCheckers(mode, has_two_phase_sink))  //
//   registry.h
//     std::cout << checkers::RunChecker(id, run)->ToString() << "\n";
//
// A RunRecord is plain data (its views point into the JobWorld: keep it alive), so a test can
// copy it, alter one thing, and prove the checker notices. docs/checkers.md states each rule.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "checkers/order_log.h"
#include "checkers/recorder.h"
#include "checkers/registry.h"
#include "checkers/run_view.h"
#include "checkers/verdict.h"
#include "engine/exec/config.h"
#include "engine/exec/job_manager.h"
#include "simulator/job_world.h"

namespace faultline::checkers {

// The HA pointer as the run left it.
struct PointerAtEnd {
  uint64_t latest = 0;  // latest completed checkpoint (0: none)
  std::string latest_metadata_blob;
  std::vector<std::string> retained_metadata_blobs;  // every retained checkpoint's metadata
};

struct RunRecord {
  RunView view;
  Recording recording;  // a copy of the recorder's, so a test may alter it
  engine::JobStatus status = engine::JobStatus::kStarting;
  std::string failure;  // why the job failed, when it did
  Time end;             // simulated time when the run was recorded
  // When injected faults stopped (LIVE counts its deadline from here). Unset: the last
  // disturbance the recorder saw (an injected fault's end, a crash, restart, pause, resume,
  // clock change, partition or heal), or the start of the run.
  std::optional<Time> quiet_from;
  uint64_t trace_hash = 0;
  // DET: two runs' trace hashes (same seed, scenario and build). Unset: DET is not judged.
  std::optional<std::pair<uint64_t, uint64_t>> trace_hashes;
  std::string build_identity;  // BuildIdentity()
  // The output store at the end (side channel): every transaction the recorder saw or a
  // completed checkpoint named, with its state; commits of already committed transactions.
  std::map<std::string, sim::TxnState, std::less<>> txn_states;
  uint64_t commits_repeated = 0;
  std::optional<PointerAtEnd> pointer;
};

struct RecordOptions {
  std::optional<Time> quiet_from;
  std::optional<std::pair<uint64_t, uint64_t>> trace_hashes;
  // The status RunUntilDone returned. Unset: the JobManager's, or (while it is down) what the
  // last job-finished event says.
  std::optional<engine::JobStatus> status;
};

// Gathers the run of `jw` (side-channel reads only). `order` may be null (EO-OUT and EO-CUT
// then replay in source order and say so). DataLoss when a source or committed record does not
// decode.
Result<RunRecord> RecordRun(sim::JobWorld& jw, const RunRecorder& recorder, const OrderLog* order,
                            const RecordOptions& options = {});

// RunView::rescaled_attempts of a run: its deployments at a plan generation whose parallelisms
// differ from the job as submitted, by attempt (a generation that only changes the state
// backend, as a resume from a savepoint may, runs the same plan).
std::map<uint64_t, uint32_t> RescaledAttempts(const engine::JobSetup& setup,
                                              const std::vector<RestoreRecord>& deployments);

// The ids of checkers/registry.h's table, in its order: "EO-OUT", "EO-CUT", "AL-LOSS", "DUR",
// "REC", "TXN", "LIVE", "DET". DefaultCheckers (registry.h) says which run by default.
std::vector<std::string_view> KnownCheckers();
class Derived;
// Runs the checker `id` of the registry; InvalidArgument for an unknown id. The checkers of one
// batch over an unchanged `run` may share one Derived(run.view) (checkers/derived.h): what more
// than one of them derives is then made once. Null: the checker derives its own.
Result<Verdict> RunChecker(std::string_view id, const RunRecord& run, Derived* derived = nullptr);

// LIVE's bound: max(10 x checkpoint interval, checkpoint timeout + restart delay), the restart
// delay being the strategy's longest (exponential: max_backoff).
Duration LivenessBound(const engine::EngineConfig& config);

}  // namespace faultline::checkers
