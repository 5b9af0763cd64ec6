#include "scenarios/runner.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/build_info.h"
#include "checkers/checker.h"
#include "checkers/degradation.h"
#include "checkers/derived.h"
#include "checkers/markers.h"
#include "checkers/order_log.h"
#include "checkers/recorder.h"
#include "checkers/registry.h"
#include "checkers/run_view.h"
#include "engine/exec/events.h"
#include "faults/fault_runner.h"
#include "scenarios/fault_plan_proto.h"
#include "scenarios/vary.h"
#include "simulator/chrome_trace.h"
#include "simulator/job_world.h"
#include "simulator/trace_kinds.h"

namespace faultline::scenarios {
namespace {

using engine::EngineEvent;

constexpr size_t kFaultsKept = 200;

std::string FormatBytes(uint64_t bytes) {
  char buf[32];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " B", bytes);
  } else if (bytes < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  }
  return buf;
}

std::string FormatMillis(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(d.nanos()) / 1e6);
  return buf;
}

// Watches the trace (observing records nothing and draws no random number) for what the report
// tells: checkpoints across JobManager incarnations, recoveries, injected faults.
class ReportObserver final : public sim::TraceObserver {
 public:
  explicit ReportObserver(RunReport* report) : report_(report) {}

  void OnRecord(const sim::TraceRecord& r) override {
    switch (r.kind) {
      case sim::TraceKind::kEngine:
        OnEngine(r);
        return;
      case sim::TraceKind::kFaultInjected:
        AddFault(r.time,
                 "fault " + r.detail + " at " +
                     std::string(sim::FaultPointName(static_cast<sim::FaultPoint>(r.args[0]))) +
                     " on node " + std::to_string(r.node));
        return;
      case sim::TraceKind::kNodeCrash:
        AddFault(r.time, "node " + std::to_string(r.node) + " crashed (" + r.detail + ")");
        return;
      case sim::TraceKind::kNodeRestart:
        AddFault(r.time, "node " + std::to_string(r.node) + " restarted");
        return;
      case sim::TraceKind::kNodePause:
        AddFault(r.time, "node " + std::to_string(r.node) + " paused");
        return;
      case sim::TraceKind::kNodeResume:
        AddFault(r.time, "node " + std::to_string(r.node) + " resumed");
        return;
      case sim::TraceKind::kPartition:
        AddFault(r.time, "network partition " + std::to_string(r.args[0]));
        return;
      case sim::TraceKind::kHeal:
        AddFault(r.time, "network partition " + std::to_string(r.args[0]) + " healed");
        return;
      case sim::TraceKind::kClockSet:
        AddFault(r.time, "clock of node " + std::to_string(r.node) + " set: offset " +
                             std::to_string(r.args[0]) + " ns, drift " + std::to_string(r.args[1]) +
                             " ppm");
        return;
      default:
        return;
    }
  }

 private:
  CheckpointRecord& Checkpoint(uint64_t id) {
    auto it = index_.find(id);
    if (it != index_.end()) return report_->checkpoints[it->second];
    index_[id] = report_->checkpoints.size();
    report_->checkpoints.push_back(CheckpointRecord{});
    report_->checkpoints.back().id = id;
    return report_->checkpoints.back();
  }

  void OnEngine(const sim::TraceRecord& r) {
    const std::optional<sim::EngineEventView> view = sim::EngineEventOf(r);
    if (!view) return;
    const engine::EventArgs& args = view->args;  // by name (engine/exec/events.h)
    auto checkpoint = [&]() -> CheckpointRecord& {
      return Checkpoint(static_cast<uint64_t>(args.checkpoint.value()));
    };
    switch (view->event) {
      case EngineEvent::kTriggered: {
        CheckpointRecord& c = checkpoint();
        c.triggered = r.time;
        c.final = args.final.value() != 0;
        return;
      }
      case EngineEvent::kSavepointTriggered: {
        CheckpointRecord& c = checkpoint();
        c.triggered = r.time;
        c.savepoint = true;
        c.stop = args.stop.value() != 0;
        return;
      }
      case EngineEvent::kSavepointCompleted: {
        CheckpointRecord& c = checkpoint();
        c.outcome = CheckpointRecord::Outcome::kCompleted;
        c.ended = r.time;
        return;
      }
      case EngineEvent::kSavepointFailed: {
        CheckpointRecord& c = checkpoint();
        c.outcome = CheckpointRecord::Outcome::kAborted;
        c.ended = r.time;
        c.reason = r.detail;
        return;
      }
      case EngineEvent::kUploaded:
        checkpoint().state_bytes += static_cast<uint64_t>(args.bytes.value());
        return;
      case EngineEvent::kAlignmentTimedOut:
        ++checkpoint().alignment_timeouts;
        return;
      case EngineEvent::kPointerMoved: {
        CheckpointRecord& c = checkpoint();
        c.outcome = CheckpointRecord::Outcome::kCompleted;
        c.ended = r.time;
        return;
      }
      case EngineEvent::kCheckpointAborted: {
        CheckpointRecord& c = checkpoint();
        if (c.outcome == CheckpointRecord::Outcome::kCompleted) return;
        c.outcome = CheckpointRecord::Outcome::kAborted;
        c.ended = r.time;
        c.reason = r.detail;
        return;
      }
      case EngineEvent::kJobRestart:
        report_->recoveries.push_back(RecoveryRecord{
            r.time, static_cast<uint64_t>(args.attempt.value()), r.detail, 0, false});
        return;
      case EngineEvent::kDeployed:
        OnDeployed(r.time, static_cast<uint64_t>(args.attempt.value()),
                   static_cast<uint64_t>(args.restored_checkpoint.value()));
        return;
      case EngineEvent::kCheckpointUnreadable: {
        const int64_t fallback = args.fallback.value();
        AddFault(r.time,
                 "engine: checkpoint " + std::to_string(args.checkpoint.value()) + " unreadable (" +
                     r.detail +
                     (fallback != 0 ? "), falling back to " + std::to_string(fallback) : ")"));
        return;
      }
      default:
        return;
    }
  }

  void OnDeployed(Time at, uint64_t attempt, uint64_t restored) {
    auto known = index_.find(restored);
    const bool savepoint =
        restored != 0 && known != index_.end() && report_->checkpoints[known->second].savepoint;
    if (!report_->recoveries.empty() && !report_->recoveries.back().has_restored) {
      report_->recoveries.back().restored = restored;
      report_->recoveries.back().has_restored = true;
      report_->recoveries.back().savepoint = savepoint;
    } else if (deployed_once_) {
      // A new JobManager (after a failover) deploys the job again from the HA store.
      report_->recoveries.push_back(
          RecoveryRecord{at, attempt, "a new JobManager took over (state from the HA store)",
                         restored, true, savepoint});
    }
    deployed_once_ = true;
  }

  void AddFault(Time at, std::string what) {
    if (report_->faults.size() >= kFaultsKept) {
      ++report_->faults_dropped;
      return;
    }
    report_->faults.push_back(FaultRecord{at, std::move(what)});
  }

  RunReport* report_;
  std::map<uint64_t, size_t> index_;
  bool deployed_once_ = false;
};

}  // namespace

std::string RestoredName(const RecoveryRecord& recovery) {
  if (!recovery.has_restored) return "(not deployed)";
  if (recovery.restored == 0) return "scratch";
  return (recovery.savepoint ? "savepoint " : "checkpoint ") + std::to_string(recovery.restored);
}

namespace {

std::string JobSummary(const engine::JobGraph& job) {
  std::string out;
  for (const engine::OperatorSpec& op : job.operators) {
    if (!out.empty()) {
      out += op.input_partitioner == engine::Partitioner::kHash        ? " =key=> "
             : op.input_partitioner == engine::Partitioner::kRebalance ? " =rebalance=> "
             : op.input_partitioner == engine::Partitioner::kBroadcast ? " =broadcast=> "
                                                                       : " -> ";
    }
    out += op.name + "(" + std::to_string(op.parallelism) + ")";
  }
  return out;
}

std::string WorldSummary(const sim::JobWorldOptions& world, const engine::EngineConfig& config) {
  const engine::CheckpointConfig& cc = config.checkpoints;
  std::string out = std::to_string(world.task_managers) + " TaskManagers; ";
  if (!cc.enabled) return out + "periodic checkpoints off";
  out += std::string(engine::CheckpointModeName(cc.mode)) + " checkpoints every " +
         cc.interval.ToString();
  if (cc.aligned_timeout > Duration::Zero()) {
    out += " (aligned first, unaligned after " + cc.aligned_timeout.ToString() + ")";
  }
  out += ", timeout " + cc.timeout.ToString();
  return out;
}

std::string ShellQuote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-./=:,@+") == std::string::npos) {
    return s;
  }
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

Status WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return UnavailableError("cannot open " + path.string() + " for writing");
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return UnavailableError("failed writing " + path.string());
  return Status::Ok();
}

std::string RecordIdString(const engine::RecordId& id) {
  return std::to_string(id.source) + ":" + std::to_string(id.partition) + ":" +
         std::to_string(id.offset);
}

// --export DIR: the run's data as JSON Lines (docs/scenarios.md "Exported data").
Status Export(const std::string& dir, const checkers::RunView& view, const RunReport& report,
              const proto::Scenario& as_written, const std::vector<std::string>& switches) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create " + dir + ": " + ec.message());
  const std::filesystem::path root(dir);
  std::string sources;
  for (const checkers::SourceRecord& s : view.sources) {
    nlohmann::json line = {{"id", RecordIdString(s.id)},  {"source", s.id.source},
                           {"partition", s.id.partition}, {"offset", s.id.offset},
                           {"key", s.record.key},         {"value", s.record.value}};
    sources += line.dump() + "\n";
  }
  FL_RETURN_IF_ERROR(WriteText(root / "source_log.jsonl", sources));
  std::string committed;
  for (const checkers::CommittedRecord& c : view.committed) {
    nlohmann::json line = {
        {"writer", c.writer},
        {"kind", c.kind == sim::OutputRecord::Kind::kTransactional ? "transactional"
                 : c.kind == sim::OutputRecord::Kind::kAppend      ? "append"
                                                                   : "upsert"},
        {"txn", c.txn},
        {"visible_at_ns", c.visible_at.nanos()},
        {"key", c.record.key},
        {"value", c.record.value},
        {"reflects", c.record.provenance.count}};
    committed += line.dump() + "\n";
  }
  FL_RETURN_IF_ERROR(WriteText(root / "committed.jsonl", committed));
  std::string checkpoints;
  for (const CheckpointRecord& c : report.checkpoints) {
    if (c.outcome != CheckpointRecord::Outcome::kCompleted) continue;
    nlohmann::json line = {{"id", c.id},
                           {"final", c.final},
                           {"savepoint", c.savepoint},
                           {"triggered_ns", c.triggered.nanos()},
                           {"completed_ns", c.ended.nanos()},
                           {"state_bytes", c.state_bytes},
                           {"metadata_blob", c.savepoint ? engine::SavepointMetadataBlobName(c.id)
                                                         : engine::MetadataBlobName(c.id)}};
    checkpoints += line.dump() + "\n";
  }
  FL_RETURN_IF_ERROR(WriteText(root / "checkpoints.jsonl", checkpoints));
  // What replays the run: the scenario as written (before the seed's draws), and the manifest
  // naming the seed, the switches and the trace hash the replay must reach (faultline-gui opens
  // the directory; `faultline run DIR/scenario.textproto --seed N` replays it).
  std::string text;
  google::protobuf::TextFormat::PrintToString(as_written, &text);
  FL_RETURN_IF_ERROR(
      WriteText(root / "scenario.textproto",
                "# Exported by faultline run --export from " + report.path + "\n" + text));
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, report.trace_hash);
  const nlohmann::json manifest = {{"format", "faultline-run/1"},
                                   {"scenario", "scenario.textproto"},
                                   {"scenario_path", report.path},
                                   {"name", report.name},
                                   {"seed", report.seed},
                                   {"switches", switches},
                                   {"trace_hash", hash},
                                   {"trace_records", report.trace_records},
                                   {"build", report.build_identity}};
  return WriteText(root / "run.json", manifest.dump(2) + "\n");
}

// One run of the scenario's world: what the checkers and the report need from it.
struct Simulated {
  std::unique_ptr<sim::JobWorld> jw;
  std::unique_ptr<checkers::OrderLog> order;
  std::unique_ptr<checkers::RunRecorder> recorder;
  std::unique_ptr<faults::FaultRunner> faults;
  engine::JobStatus status = engine::JobStatus::kStarting;
};

Result<std::unique_ptr<Simulated>> Simulate(const engine::JobGraph& job, const Scenario& scenario,
                                            const std::vector<std::vector<engine::Record>>& log,
                                            engine::EngineConfig config,
                                            sim::JobWorldOptions world_options, Time limit,
                                            ReportObserver* observer,
                                            const std::function<void(Time)>& progress,
                                            sim::TraceObserver* extra = nullptr,
                                            Duration settle = Duration::Seconds(2)) {
  auto run = std::make_unique<Simulated>();
  Simulated* raw = run.get();
  run->order = std::make_unique<checkers::OrderLog>(checkers::OrderLog::Options{
      .now = [raw] { return raw->jw == nullptr ? Time::Zero() : raw->jw->world().now(); }});
  config.observer = run->order.get();
  if (config.flow_observer != nullptr) {
    config.flow_observer->clock = [raw] {
      return raw->jw == nullptr ? Time::Zero() : raw->jw->world().now();
    };
  }
  FL_ASSIGN_OR_RETURN(run->jw, sim::JobWorld::Create(job, config, world_options));
  sim::JobWorld& jw = *run->jw;
  for (uint32_t p = 0; p < log.size(); ++p) {
    for (const engine::Record& r : log[p]) jw.AddSourceRecord(p, r);
  }
  FL_ASSIGN_OR_RETURN(const faults::FaultPlan plan, FaultPlanFromProto(scenario.spec));
  FL_ASSIGN_OR_RETURN(run->faults, faults::FaultRunner::Create(jw, plan));
  run->recorder = std::make_unique<checkers::RunRecorder>(jw);
  jw.world().trace().AddObserver(run->recorder.get());
  if (observer != nullptr) jw.world().trace().AddObserver(observer);
  if (extra != nullptr) jw.world().trace().AddObserver(extra);
  run->faults->Install();
  jw.Start();
  std::function<void()> poll;
  if (progress) poll = [&jw, &progress] { progress(jw.world().now()); };
  run->status = jw.RunUntilDone(limit, poll, settle);
  if (const auto& stuck = jw.world().loop().stuck()) {
    // A livelock: the run cannot finish and nothing about it can be judged. An engine bug.
    return InternalError("livelock: simulated time stopped advancing at " + stuck->at.ToString() +
                         " (" + std::to_string(stuck->events) +
                         " events without time moving on); the run cannot finish");
  }
  if (extra != nullptr) jw.world().trace().RemoveObserver(extra);
  if (observer != nullptr) jw.world().trace().RemoveObserver(observer);
  jw.world().trace().RemoveObserver(run->recorder.get());
  return run;
}

bool Wants(const std::vector<std::string>& checkers, std::string_view id) {
  return std::find(checkers.begin(), checkers.end(), id) != checkers.end();
}

// The scenario's checkers plus RunOptions::also_check, each once.
Result<std::vector<std::string>> CheckersOfRun(const proto::Scenario& spec,
                                               const engine::JobGraph& job,
                                               const engine::EngineConfig& config,
                                               const RunOptions& options) {
  std::vector<std::string> enabled = EnabledCheckers(spec);
  const bool two_phase = !job.operators.empty() &&
                         job.operators.back().kind == engine::OperatorKind::kSink &&
                         job.operators.back().sink.kind == engine::SinkKind::kTwoPhaseCommit;
  for (const std::string& id : options.also_check) {
    const checkers::CheckerInfo* info = checkers::FindChecker(id);
    if (info == nullptr) {
      return InvalidArgumentError("unknown checker '" + id +
                                  "' (known: " + checkers::CheckerNames() + ")");
    }
    const std::string why = checkers::WhyNotApplicable(*info, config.checkpoints.mode, two_phase);
    if (!why.empty()) return InvalidArgumentError("checker " + id + ": " + why);
    if (std::find(enabled.begin(), enabled.end(), id) == enabled.end()) enabled.push_back(id);
  }
  return enabled;
}

// What makes an INCONCLUSIVE run inconclusive that no fault the scenario planned explains: an
// unjudged part without an explanation, a plan entry that never fired, a job that did not finish
// without a checker explaining why (a permanent crash, a policy that fails the job after an
// injected fault destroyed its checkpoint). A job left unfinished for an explained reason
// explains the other checkers' job-not-finished parts too, a checker left with nothing to check
// (no checkpoint completed before it stopped), and plan entries whose trigger the stopped job
// never reached. A plan entry whose checkpoint a fault left behind (a failover skipped or aborted
// that id before its event) is explained by that fault, and one still waiting when the finished
// job's run ended (its time after the end, its event not reached as often as it waits for) by
// the job's end: the whole run was judged, and nothing was left to inject into.
std::vector<std::string> Unexplained(const RunReport& report) {
  const auto about_unfinished = [](checkers::Unjudged r) {
    return r == checkers::Unjudged::kJobNotFinished || r == checkers::Unjudged::kNoQuietPhase;
  };
  bool unfinished_explained = false;
  for (const checkers::Verdict& v : report.verdicts) {
    for (const checkers::UnjudgedPart& part : v.unjudged()) {
      if (!part.explained_by.empty() && about_unfinished(part.reason)) unfinished_explained = true;
    }
  }
  std::vector<std::string> out;
  for (const checkers::Verdict& v : report.verdicts) {
    for (const checkers::Unjudged reason : v.unexplained()) {
      if (unfinished_explained && about_unfinished(reason)) continue;
      const bool stopped = report.status != engine::JobStatus::kFinished;
      if (unfinished_explained && stopped && reason == checkers::Unjudged::kNothingToCheck)
        continue;
      out.push_back(v.rule() + " could not judge (" + std::string(checkers::UnjudgedName(reason)) +
                    ")");
    }
  }
  const bool unfired_explained =
      report.fault_plan_overtaken.size() + report.fault_plan_after_end.size() ==
      report.fault_plan_unfired.size();
  if (!report.fault_plan_unfired.empty() && !unfinished_explained && !unfired_explained) {
    out.push_back("fault plan entries never fired");
  }
  if (report.status != engine::JobStatus::kFinished && !unfinished_explained) {
    out.push_back("the job did not finish (" + std::string(engine::JobStatusName(report.status)) +
                  ")");
  }
  return out;
}

// The run's outcome from its verdicts (ORACLES.md): any violation makes it a VIOLATION; else a
// checker that could not judge, a fault-plan entry that never fired, or a job that did not
// finish makes it INCONCLUSIVE with the reason; else PASS.
void DecideOutcome(RunReport& report, const std::string& degradation) {
  for (const checkers::Verdict& v : report.verdicts) {
    if (v.violated()) {
      report.outcome = RunReport::Outcome::kViolation;
      report.outcome_detail = v.rule();
      return;
    }
  }
  std::string unjudged;
  for (const checkers::Verdict& v : report.verdicts) {
    if (v.judged()) continue;
    unjudged += (unjudged.empty() ? "" : "; ") + v.rule() + " could not judge (";
    for (size_t i = 0; i < v.reasons().size(); ++i) {
      unjudged += (i ? ", " : "") + std::string(checkers::UnjudgedName(v.reasons()[i]));
    }
    unjudged += ")";
  }
  std::vector<std::string> why;
  if (!unjudged.empty()) why.push_back(unjudged);
  if (!report.fault_plan_unfired.empty()) {
    std::string unfired = "fault plan entries never fired: ";
    for (size_t i = 0; i < report.fault_plan_unfired.size(); ++i) {
      unfired += (i ? ", " : "") + report.fault_plan_unfired[i];
    }
    why.push_back(std::move(unfired));
  }
  if (report.status != engine::JobStatus::kFinished) {
    why.push_back("the job did not finish (" + std::string(engine::JobStatusName(report.status)) +
                  (report.failure.empty() ? "" : ": " + report.failure) + ")");
  }
  if (!degradation.empty()) why.push_back("expected degradation: " + degradation);
  report.outcome = why.size() > (degradation.empty() ? 0u : 1u) ? RunReport::Outcome::kInconclusive
                                                                : RunReport::Outcome::kPass;
  report.outcome_detail.clear();
  for (size_t i = 0; i < why.size(); ++i) report.outcome_detail += (i ? "; " : "") + why[i];
  if (report.outcome == RunReport::Outcome::kInconclusive) report.unexplained = Unexplained(report);
}

Result<RunReport> Run(const engine::JobGraph& job, const Scenario& file,
                      const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  // The settings this seed draws (`vary`) replace the file's before anything is built.
  Varied varied =
      ApplyVary(file.spec, options.seed.value_or(file.spec.has_seed() ? file.spec.seed() : 1));
  for (const std::string& name : options.switches) {
    const auto& listed = varied.spec.teaching_switches();
    if (std::find(listed.begin(), listed.end(), name) == listed.end()) {
      varied.spec.add_teaching_switches(name);
    }
  }
  if (!options.switches.empty()) FL_RETURN_IF_ERROR(ValidateScenario(varied.spec));
  const Scenario scenario{file.path, std::move(varied.spec)};
  const proto::Scenario& spec = scenario.spec;
  FL_ASSIGN_OR_RETURN(engine::EngineConfig config, ToEngineConfig(spec));
  FL_ASSIGN_OR_RETURN(sim::JobWorldOptions world_options, ToJobWorldOptions(spec));
  FL_ASSIGN_OR_RETURN(Duration limit, RunLimit(spec));
  if (options.seed) world_options.world.seed = *options.seed;
  world_options.world.trace.keep_records = !options.trace_json.empty();
  RunReport report;
  report.path = scenario.path;
  report.name = spec.name();
  report.description = spec.description();
  report.seed = world_options.world.seed;
  report.job_summary = JobSummary(job);
  report.world_summary = WorldSummary(world_options, config);
  report.varied = std::move(varied.drawn);
  report.run_limit = limit;
  report.expected = spec.expect();
  report.build_identity = BuildIdentity();

  const Time limit_time = Time::Zero() + limit;
  std::function<void(Time)> poll;
  if (options.progress) poll = [&](Time now) { options.progress(now, limit_time); };
  // The source log, generated once (a pure function of the scenario; DET reuses it).
  const std::vector<std::vector<engine::Record>> log = GenerateSourceLog(spec);
  for (const auto& partition : log) report.source_records += partition.size();
  ReportObserver observer(&report);
  const Duration settle = options.stop_at_limit ? Duration::Zero() : Duration::Seconds(2);
  engine::EngineConfig first_config = config;
  first_config.flow_observer = options.flow_observer;
  FL_ASSIGN_OR_RETURN(std::unique_ptr<Simulated> run,
                      Simulate(job, scenario, log, first_config, world_options, limit_time,
                               &observer, poll, options.trace_observer, settle));
  sim::JobWorld& jw = *run->jw;
  if (options.setup_observer) options.setup_observer(jw.setup());
  report.status = run->status;
  report.ended = jw.world().now();
  if (engine::JobManager* jm = jw.job_manager()) report.failure = jm->failure();
  report.trace_hash = jw.world().trace().hash();
  report.trace_records = jw.world().trace().count();
  const faults::FaultReport fault_report =
      run->faults->Report(run->status == engine::JobStatus::kFinished);
  report.fault_plan_unfired = fault_report.never_fired;
  report.fault_plan_overtaken = fault_report.overtaken;
  report.fault_plan_after_end = fault_report.after_end;

  FL_ASSIGN_OR_RETURN(const std::vector<std::string> enabled,
                      CheckersOfRun(spec, job, config, options));
  report.warnings = CheckerWarnings(spec);
  checkers::RecordOptions record_options;
  record_options.status = run->status;
  if (fault_report.total_fired() > 0) record_options.quiet_from = fault_report.quiet_from;
  if (Wants(enabled, "DET")) {
    // DET: the same seed, scenario and build again must give the same trace hash.
    FL_ASSIGN_OR_RETURN(std::unique_ptr<Simulated> again,
                        Simulate(job, scenario, log, config, world_options, limit_time, nullptr, {},
                                 nullptr, settle));
    record_options.trace_hashes =
        std::make_pair(report.trace_hash, again->jw->world().trace().hash());
  }
  FL_ASSIGN_OR_RETURN(checkers::RunRecord record,
                      checkers::RecordRun(jw, *run->recorder, run->order.get(), record_options));
  report.committed_records = record.view.committed.size();
  for (std::string_view m : checkers::MarkersOf(record).names()) report.markers.emplace_back(m);
  report.nemesis_entries = fault_report.nemesis_entries;
  checkers::Derived derived(record.view);  // shared by the checkers below
  for (const std::string& id : enabled) {
    FL_ASSIGN_OR_RETURN(checkers::Verdict verdict, checkers::RunChecker(id, record, &derived));
    report.verdicts.push_back(std::move(verdict));
  }
  // ORACLES.md: a breach the engine itself reported after an injected fault destroyed the
  // checkpoint is an expected degradation. The checkers judge what it explains (the records
  // the fallback emits again); the report names it.
  std::string degradation;
  for (const checkers::ReportedFallback& f : checkers::ReportedFallbacks(record.recording)) {
    if (f.destroyed_by_injection) degradation += (degradation.empty() ? "" : "; ") + f.Describe();
  }
  DecideOutcome(report, degradation);
  report.reproduce = ReproduceCommand(scenario.path, report.seed, options.switches);
  if (!options.export_dir.empty()) {
    FL_RETURN_IF_ERROR(
        Export(options.export_dir, record.view, report, file.spec, options.switches));
  }
  if (!options.trace_json.empty()) {
    std::vector<std::string> names{"jobmanager"};
    for (uint32_t i = 1; i <= world_options.task_managers; ++i) {
      names.push_back("taskmanager-" + std::to_string(i));
    }
    FL_RETURN_IF_ERROR(WriteText(options.trace_json,
                                 sim::ToChromeTraceJson(jw.world().trace().records(), names,
                                                        sim::ChromeTraceTasks(jw.setup().plan))));
  }
  report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return report;
}

std::string_view VerdictOutcomeName(checkers::Verdict::Outcome o) {
  switch (o) {
    case checkers::Verdict::Outcome::kPass:
      return "PASS";
    case checkers::Verdict::Outcome::kFail:
      return "FAIL";
    case checkers::Verdict::Outcome::kInconclusive:
      return "INCONCLUSIVE";
  }
  return "?";
}

std::string_view CheckpointOutcomeName(CheckpointRecord::Outcome o) {
  switch (o) {
    case CheckpointRecord::Outcome::kInProgress:
      return "in progress";
    case CheckpointRecord::Outcome::kCompleted:
      return "completed";
    case CheckpointRecord::Outcome::kAborted:
      return "aborted";
  }
  return "?";
}

}  // namespace

std::string ExpectedString(const proto::Expectation& e) {
  switch (e.verdict()) {
    case proto::Expectation::VIOLATION:
      return "VIOLATION of " + e.checker();
    case proto::Expectation::INCONCLUSIVE:
      return "INCONCLUSIVE";
    default:
      return "PASS";
  }
}

std::string_view OutcomeName(RunReport::Outcome outcome) {
  switch (outcome) {
    case RunReport::Outcome::kPass:
      return "PASS";
    case RunReport::Outcome::kViolation:
      return "VIOLATION";
    case RunReport::Outcome::kInconclusive:
      return "INCONCLUSIVE";
  }
  return "?";
}

std::string ReproduceCommand(const std::string& path, uint64_t seed,
                             const std::vector<std::string>& switches) {
  std::string out = "faultline run " + ShellQuote(path) + " --seed " + std::to_string(seed);
  for (const std::string& name : switches) out += " --switch " + name;
  return out;
}

bool RunReport::as_expected() const {
  switch (expected.verdict()) {
    case proto::Expectation::VIOLATION: {
      if (outcome != Outcome::kViolation) return false;
      for (const checkers::Verdict& v : verdicts) {
        if (v.rule() == expected.checker()) return v.violated();
      }
      return false;
    }
    case proto::Expectation::INCONCLUSIVE:
      return outcome == Outcome::kInconclusive;
    default:
      return outcome == Outcome::kPass;
  }
}

Result<RunReport> RunScenario(const Scenario& scenario, const RunOptions& options) {
  FL_ASSIGN_OR_RETURN(engine::JobGraph job, ToJobGraph(scenario.spec));
  return Run(job, scenario, options);
}

Result<RunReport> RunJob(const engine::JobGraph& job, const Scenario& scenario,
                         const RunOptions& options) {
  return Run(job, scenario, options);
}

std::string FormatReport(const RunReport& r) {
  std::string out;
  char buf[512];
  out += "scenario     " + r.name + "  (" + r.path + ")\n";
  if (!r.description.empty()) {
    std::string first = r.description.substr(0, r.description.find('\n'));
    out += "             " + first + "\n";
  }
  out += "job          " + r.job_summary + "\n";
  out += "world        " + r.world_summary + "\n";
  if (!r.varied.empty()) out += "varied       " + r.varied + " (this seed's draw)\n";
  std::snprintf(buf, sizeof buf,
                "run          seed %" PRIu64
                ": %s at %s simulated (limit %s), %.2f s wall; "
                "%" PRIu64 " source records, %" PRIu64 " committed\n",
                r.seed, std::string(engine::JobStatusName(r.status)).c_str(),
                r.ended.ToString().c_str(), r.run_limit.ToString().c_str(), r.wall_seconds,
                r.source_records, r.committed_records);
  out += buf;
  if (!r.failure.empty()) out += "             job failure: " + r.failure + "\n";

  uint32_t completed = 0, aborted = 0;
  Duration total, longest;
  uint64_t bytes = 0;
  for (const CheckpointRecord& c : r.checkpoints) {
    if (c.outcome == CheckpointRecord::Outcome::kCompleted) {
      ++completed;
      total += c.ended - c.triggered;
      longest = std::max(longest, c.ended - c.triggered);
      bytes += c.state_bytes;
    } else if (c.outcome == CheckpointRecord::Outcome::kAborted) {
      ++aborted;
    }
  }
  std::snprintf(buf, sizeof buf, "checkpoints  %u completed, %u aborted", completed, aborted);
  out += buf;
  if (completed > 0) {
    out += "; mean duration " + FormatMillis(Duration::Nanos(total.nanos() / completed)) +
           ", longest " + FormatMillis(longest) + ", mean size " + FormatBytes(bytes / completed);
  }
  out += "\n";
  size_t shown = 0;
  for (const CheckpointRecord& c : r.checkpoints) {
    const bool interesting = c.outcome != CheckpointRecord::Outcome::kCompleted ||
                             c.alignment_timeouts > 0 || c.final || c.savepoint;
    if (!interesting && r.checkpoints.size() > 12) continue;
    if (++shown > 20) break;
    std::snprintf(buf, sizeof buf, "  #%-4" PRIu64 " %-11s triggered %-14s", c.id,
                  std::string(CheckpointOutcomeName(c.outcome)).c_str(),
                  c.triggered.ToString().c_str());
    out += buf;
    if (c.outcome != CheckpointRecord::Outcome::kInProgress) {
      out += " took " + FormatMillis(c.ended - c.triggered);
    }
    if (c.outcome == CheckpointRecord::Outcome::kCompleted)
      out += ", " + FormatBytes(c.state_bytes);
    if (c.final) out += ", final";
    if (c.savepoint) out += c.stop ? ", stop-with-savepoint" : ", savepoint";
    if (c.alignment_timeouts > 0) {
      out += ", " + std::to_string(c.alignment_timeouts) + " tasks switched to unaligned";
    }
    if (!c.reason.empty()) out += ": " + c.reason;
    out += "\n";
  }
  if (shown > 20) out += "  ...\n";

  if (r.faults.empty()) {
    out += "faults       none injected\n";
  } else {
    std::snprintf(buf, sizeof buf, "faults       %zu injected or observed%s\n",
                  r.faults.size() + r.faults_dropped,
                  r.faults_dropped ? " (first ones listed)" : "");
    out += buf;
    size_t n = 0;
    for (const FaultRecord& f : r.faults) {
      if (++n > 25) {
        out += "  ...\n";
        break;
      }
      out += "  " + f.at.ToString() + "  " + f.what + "\n";
    }
  }
  for (const std::string& unfired : r.fault_plan_unfired) {
    // "name (why)" when a fault or the job's end explains it, else the name alone.
    std::string line = unfired;
    for (const auto* explained : {&r.fault_plan_overtaken, &r.fault_plan_after_end}) {
      for (const std::string& o : *explained) {
        if (o.starts_with(unfired + " (")) line = o;
      }
    }
    out += "  never fired: " + line + "\n";
  }
  if (r.recoveries.empty()) {
    out += "recoveries   none\n";
  } else {
    out += "recoveries   " + std::to_string(r.recoveries.size()) + "\n";
    for (const RecoveryRecord& rec : r.recoveries) {
      out += "  " + rec.at.ToString() + "  attempt " + std::to_string(rec.attempt) + " from " +
             RestoredName(rec) + ": " + rec.reason + "\n";
    }
  }
  out += "verdict      " + std::string(OutcomeName(r.outcome));
  if (!r.outcome_detail.empty()) out += " (" + r.outcome_detail + ")";
  out += "; expected " + ExpectedString(r.expected) + ": " +
         (r.as_expected() ? "as expected" : "NOT as expected") + "\n";
  if (r.outcome == RunReport::Outcome::kInconclusive) {
    std::string unexplained;
    for (const std::string& u : r.unexplained) unexplained += (unexplained.empty() ? "" : "; ") + u;
    out += "             " +
           (unexplained.empty() ? std::string("every reason is explained by a planned fault") +
                                      (r.fault_plan_after_end.empty() ? "" : " or the job's end")
                                : "not explained by a planned fault: " + unexplained) +
           "\n";
  }
  for (const std::string& warning : r.warnings) out += "warning      " + warning + "\n";
  for (const checkers::Verdict& v : r.verdicts) {
    std::string text = v.ToString();
    size_t start = 0;
    while (start < text.size()) {
      const size_t end = text.find('\n', start);
      out += "  " + text.substr(start, end == std::string::npos ? end : end - start) + "\n";
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  if (!r.markers.empty()) {
    std::string reached;
    for (const std::string& m : r.markers) reached += (reached.empty() ? "" : ", ") + m;
    out += "reached      " + reached + "\n";
  }
  std::snprintf(buf, sizeof buf, "trace        hash %016" PRIx64 " over %" PRIu64 " records; %s\n",
                r.trace_hash, r.trace_records, r.build_identity.c_str());
  out += buf;
  out += "reproduce    " + r.reproduce + "\n";
  return out;
}

std::string ReportJson(const RunReport& r) {
  nlohmann::json j;
  j["scenario"] = {{"name", r.name}, {"path", r.path}, {"description", r.description}};
  j["seed"] = r.seed;
  j["job"] = r.job_summary;
  j["world"] = r.world_summary;
  if (!r.varied.empty()) j["varied"] = r.varied;
  j["run"] = {{"status", std::string(engine::JobStatusName(r.status))},
              {"failure", r.failure},
              {"ended_ns", r.ended.nanos()},
              {"limit_ns", r.run_limit.nanos()},
              {"wall_seconds", r.wall_seconds},
              {"source_records", r.source_records},
              {"committed_records", r.committed_records}};
  nlohmann::json checkpoints = nlohmann::json::array();
  for (const CheckpointRecord& c : r.checkpoints) {
    checkpoints.push_back({{"id", c.id},
                           {"outcome", std::string(CheckpointOutcomeName(c.outcome))},
                           {"final", c.final},
                           {"savepoint", c.savepoint},
                           {"stop", c.stop},
                           {"triggered_ns", c.triggered.nanos()},
                           {"ended_ns", c.ended.nanos()},
                           {"state_bytes", c.state_bytes},
                           {"alignment_timeouts", c.alignment_timeouts},
                           {"reason", c.reason}});
  }
  j["checkpoints"] = checkpoints;
  nlohmann::json faults = nlohmann::json::array();
  for (const FaultRecord& f : r.faults)
    faults.push_back({{"at_ns", f.at.nanos()}, {"what", f.what}});
  j["faults"] = {{"events", faults},
                 {"dropped", r.faults_dropped},
                 {"never_fired", r.fault_plan_unfired},
                 {"overtaken", r.fault_plan_overtaken},
                 {"after_end", r.fault_plan_after_end}};
  nlohmann::json recoveries = nlohmann::json::array();
  for (const RecoveryRecord& rec : r.recoveries) {
    recoveries.push_back({{"at_ns", rec.at.nanos()},
                          {"attempt", rec.attempt},
                          {"reason", rec.reason},
                          {"restored_checkpoint", rec.restored}});
  }
  j["recoveries"] = recoveries;
  nlohmann::json verdicts = nlohmann::json::array();
  for (const checkers::Verdict& v : r.verdicts) {
    nlohmann::json one = {{"checker", v.rule()},
                          {"outcome", VerdictOutcomeName(v.outcome())},
                          {"passed", v.passed()},
                          {"further_violations", v.further_violations()},
                          {"notes", v.notes()}};
    nlohmann::json unjudged = nlohmann::json::array();
    for (const checkers::UnjudgedPart& part : v.unjudged()) {
      nlohmann::json one_part = {{"reason", checkers::UnjudgedName(part.reason)},
                                 {"detail", part.detail}};
      if (!part.explained_by.empty()) one_part["explained_by"] = part.explained_by;
      unjudged.push_back(std::move(one_part));
    }
    one["unjudged"] = unjudged;
    if (v.first()) {
      const checkers::Violation& f = *v.first();
      nlohmann::json evidence = {{"detail", f.evidence.detail}};
      if (f.evidence.record) evidence["record"] = checkers::FormatRecordId(*f.evidence.record);
      if (f.evidence.key) evidence["key"] = *f.evidence.key;
      if (f.evidence.checkpoint_id) evidence["checkpoint"] = *f.evidence.checkpoint_id;
      if (f.evidence.task) evidence["task"] = *f.evidence.task;
      if (f.evidence.attempt) evidence["attempt"] = *f.evidence.attempt;
      if (!f.evidence.blob.empty()) evidence["blob"] = f.evidence.blob;
      if (f.evidence.time) evidence["time_ns"] = f.evidence.time->nanos();
      one["violation"] = {{"what", f.what}, {"evidence", evidence}};
    }
    verdicts.push_back(one);
  }
  j["verdict"] = {{"outcome", std::string(OutcomeName(r.outcome))},
                  {"detail", r.outcome_detail},
                  {"expected", ExpectedString(r.expected)},
                  {"as_expected", r.as_expected()},
                  {"warnings", r.warnings},
                  {"unexplained", r.unexplained},
                  {"checkers", verdicts}};
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, r.trace_hash);
  j["trace"] = {{"hash", hash}, {"records", r.trace_records}, {"build", r.build_identity}};
  j["markers"] = r.markers;
  j["reproduce"] = r.reproduce;
  return j.dump(2) + "\n";
}

}  // namespace faultline::scenarios
