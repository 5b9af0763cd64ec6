#include "checkers/checker.h"

#include <algorithm>
#include <set>
#include <utility>

#include "base/build_info.h"
#include "checkers/degradation.h"
#include "checkers/eo_cut.h"
#include "checkers/eo_out.h"
#include "checkers/registry.h"
#include "checkers/sent_metadata.h"
#include "checkers/stored_message.h"
#include "engine/exec/cluster.h"
#include "engine/proto/checkpoint.pb.h"

namespace faultline::checkers {
namespace {

// The status the recording shows: the last job-finished event (failed or finished).
engine::JobStatus StatusFromEvents(const Recording& recording, std::string& failure) {
  for (auto it = recording.events.rbegin(); it != recording.events.rend(); ++it) {
    if (it->event != engine::EngineEvent::kJobFinished) continue;
    if (it->detail.starts_with("failed: ")) {
      failure = it->detail.substr(8);
      return engine::JobStatus::kFailed;
    }
    return engine::JobStatus::kFinished;
  }
  return engine::JobStatus::kRunning;
}

// EO-OUT and EO-CUT judge the output and the cuts; what the engine reported about unreadable
// checkpoints is context for their verdicts (ORACLES.md's fail / fallback policy).
void NoteReportedBreaches(const RunRecord& run, Verdict& verdict) {
  for (const ReportedFallback& f : ReportedFallbacks(run.recording)) {
    std::string note = f.Describe() + " at t=" + std::to_string(f.reported.nanos()) + "ns";
    if (f.fallback == 0) {
      note += ": nothing is emitted twice";
    } else if (f.reemitted) {
      note += ": it emits again the records between the two checkpoints' source offsets";
    }
    if (!f.destroyed_by_injection) note += " (REC judges it a violation)";
    verdict.Note(std::move(note));
  }
}

// A job that ended with a stop-with-savepoint (the HA pointer names it at the end and the job
// finished) was to process its input up to the savepoint's source offsets, no further: the view
// keeps only those source records, so every checker judges what the job was asked to do.
void CutAtStop(RunRecord& run) {
  const std::string& name = run.pointer->latest_metadata_blob;
  if (!name.starts_with(engine::kSavepointPrefix) || run.view.blobs == nullptr) return;
  const SentBlobs sent(run.view);
  const Bytes* bytes = nullptr;  // the metadata as the engine sent it (written once)
  for (const SentBlobs::Version& v : sent.Versions(name)) {
    if (v.name == name) bytes = v.bytes;
  }
  if (bytes == nullptr) return;
  Result<engine::proto::CheckpointMetadata> metadata = ReadMetadataBlob(*bytes, name);
  if (!metadata.ok() || !metadata->stop()) return;
  Result<SourceCut> cut = SourceCutOf(sent, *metadata);
  if (!cut.ok()) {
    run.recording.notes.push_back("stop-with-savepoint " +
                                  std::to_string(metadata->checkpoint_id()) + ": " +
                                  cut.status().ToString() + "; the input is judged whole");
    return;
  }
  // A sink that is not two-phase-commit made visible what attempts before the stop emitted,
  // beyond the cut too (a failover replays from an earlier checkpoint): those records stay, as
  // reflected output the run may hold. A two-phase-commit sink commits nothing beyond the cut.
  std::set<uint64_t> reflected;
  const engine::JobGraph& job = run.view.setup->job;
  if (job.operators.back().sink.kind != engine::SinkKind::kTwoPhaseCommit) {
    for (const CommittedRecord& c : run.view.committed) {
      if (c.record.provenance.count == 1) reflected.insert(c.record.provenance.hash_sum);
    }
  }
  std::erase_if(run.view.sources, [&](const SourceRecord& r) {
    if (cut->ended.contains(r.id.partition)) return false;
    auto it = cut->offsets.find(r.id.partition);
    if (it != cut->offsets.end() && r.id.offset < it->second) return false;
    return !reflected.contains(r.record.provenance.hash_sum);
  });
  run.view.stopped_with_savepoint = metadata->checkpoint_id();
}

}  // namespace

std::map<uint64_t, uint32_t> RescaledAttempts(const engine::JobSetup& setup,
                                              const std::vector<RestoreRecord>& deployments) {
  std::map<uint64_t, uint32_t> out;
  for (const RestoreRecord& d : deployments) {
    if (d.generation == 0 || d.generation >= setup.generations()) continue;
    bool same = true;
    for (size_t i = 0; i < setup.job.operators.size(); ++i) {
      same = same && setup.JobOf(d.generation).operators[i].parallelism ==
                         setup.job.operators[i].parallelism;
    }
    if (!same) out[d.attempt] = d.generation;
  }
  return out;
}

Result<RunRecord> RecordRun(sim::JobWorld& jw, const RunRecorder& recorder, const OrderLog* order,
                            const RecordOptions& options) {
  RunRecord run;
  FL_ASSIGN_OR_RETURN(run.view, ViewOf(jw, order));
  run.recording = recorder.recording();
  run.view.rescaled_attempts = RescaledAttempts(jw.setup(), run.recording.deployments);
  run.end = jw.world().now();
  run.trace_hash = jw.world().trace().hash();
  run.trace_hashes = options.trace_hashes;
  run.build_identity = BuildIdentity();

  std::string failure;
  const engine::JobStatus from_events = StatusFromEvents(run.recording, failure);
  if (options.status) {
    run.status = *options.status;
  } else if (engine::JobManager* jm = jw.job_manager()) {
    run.status = jm->status();
  } else {
    run.status = from_events;
  }
  if (run.status == engine::JobStatus::kFailed) run.failure = failure;

  if (options.quiet_from) {
    run.quiet_from = options.quiet_from;
  } else {
    Time quiet = Time::Zero();
    for (const InjectedFault& f : run.recording.faults) quiet = std::max(quiet, f.time + f.delay);
    for (const NodeEvent& n : run.recording.nodes) quiet = std::max(quiet, n.time);
    run.quiet_from = quiet;
  }

  const sim::OutputStoreSim& store = jw.world().output_store();
  run.commits_repeated = store.commits_repeated();
  auto add_txn = [&](const std::string& txn) {
    if (run.txn_states.count(txn)) return;
    if (std::optional<sim::TxnState> state = store.StateOf(txn)) run.txn_states[txn] = *state;
  };
  for (const ServiceCall& call : run.recording.calls) {
    if (call.service == sim::Service::kOutputStore && call.op != sim::ServiceOp::kFence) {
      add_txn(call.target);
    }
  }
  for (const CompletionRecord& c : run.recording.completions) {
    for (const engine::PendingTransaction& p : c.pending) add_txn(p.txn);
  }

  const std::string key = engine::HaPointerKey(jw.setup());
  const runtime::VersionedValue pointer = jw.world().ha_store().Peek(key);
  if (pointer.version != 0) {
    Result<engine::proto::HaPointer> decoded = ReadHaPointer(pointer.value, key);
    if (decoded.ok()) {
      PointerAtEnd at_end;
      at_end.latest = decoded->latest_completed_checkpoint_id();
      at_end.latest_metadata_blob = decoded->latest_metadata_blob();
      at_end.retained_metadata_blobs.assign(decoded->retained_metadata_blobs().begin(),
                                            decoded->retained_metadata_blobs().end());
      if (at_end.retained_metadata_blobs.empty() && !at_end.latest_metadata_blob.empty()) {
        at_end.retained_metadata_blobs.push_back(at_end.latest_metadata_blob);
      }
      run.pointer = std::move(at_end);
      if (run.status == engine::JobStatus::kFinished) CutAtStop(run);
    } else {
      run.recording.notes.push_back("HA pointer at the end: " + decoded.status().ToString());
    }
  }
  return run;
}

std::vector<std::string_view> KnownCheckers() {
  std::vector<std::string_view> out;
  for (const CheckerInfo& info : kCheckers) out.push_back(info.name);
  return out;
}

Verdict CheckExactlyOnceOutputRule(const RunRecord& run, Derived* derived) {
  OutputJudging judging{.fallbacks = ReportedFallbacks(run.recording),
                        .finished = run.status == engine::JobStatus::kFinished};
  for (const CompletionRecord& c : run.recording.completions) {  // the HA pointer's writes
    if (!judging.last_completed || c.checkpoint > *judging.last_completed) {
      judging.last_completed = c.checkpoint;
    }
  }
  Verdict v = CheckExactlyOnceOutput(run.view, judging, derived);
  NoteReportedBreaches(run, v);
  return v;
}

Verdict CheckConsistentCutsRule(const RunRecord& run, Derived* derived) {
  Verdict v = CheckConsistentCuts(run.view, derived);
  NoteReportedBreaches(run, v);
  return v;
}

Result<Verdict> RunChecker(std::string_view id, const RunRecord& run, Derived* derived) {
  const CheckerInfo* info = FindChecker(id);
  if (info == nullptr) {
    return InvalidArgumentError("unknown checker '" + std::string(id) +
                                "' (known: " + CheckerNames() + ")");
  }
  return info->check(run, derived);
}

Duration LivenessBound(const engine::EngineConfig& config) {
  const engine::RestartStrategy& r = config.restart;
  Duration restart = Duration::Zero();
  switch (r.kind) {
    case engine::RestartStrategy::Kind::kFixedDelay:
    case engine::RestartStrategy::Kind::kFailureRate:
      restart = r.delay;
      break;
    case engine::RestartStrategy::Kind::kExponentialDelay:
      restart = r.max_backoff;
      break;
    case engine::RestartStrategy::Kind::kNone:
      break;
  }
  const Duration a = config.checkpoints.interval * 10;
  const Duration b = config.checkpoints.timeout + restart;
  return a > b ? a : b;
}

}  // namespace faultline::checkers
