// LIVE (ORACLES.md): once faults stop, within max(10 x checkpoint interval, checkpoint timeout +
// restart delay) a checkpoint completes; with finite input (the source log is bounded) the job
// reaches end of input, takes a final checkpoint, commits, and the committed output covers the
// whole input.
#include <map>
#include <optional>
#include <string>

#include "checkers/checker.h"
#include "checkers/coverage.h"
#include "checkers/degradation.h"

namespace faultline::checkers {
namespace {

std::string Seconds(Duration d) {
  return std::to_string(d.nanos() / 1'000'000) + " ms";
}

// A reported unreadable checkpoint caused by an injected storage fault: expected degradation.
std::optional<uint64_t> ReportedInjectedBreach(const RunRecord& run) {
  for (const EngineEventRecord& e : run.recording.events) {
    if (e.event != engine::EngineEvent::kCheckpointUnreadable || e.args.fallback != 0) continue;
    const uint64_t id = static_cast<uint64_t>(e.args.checkpoint.value());
    if (DestroyedOnCheckpoint(run.recording, id) != 0) return id;
  }
  return std::nullopt;
}

}  // namespace

Verdict CheckLiveness(const RunRecord& run) {
  Verdict verdict("LIVE");
  const Duration bound = LivenessBound(run.view.setup->config);
  const Time quiet = run.quiet_from.value_or(Time::Zero());
  const Time deadline = quiet + bound;

  // A node crashed and never restarted is a permanent fault: the job cannot be expected to go on
  // (there are no spare slots).
  std::map<uint32_t, bool> down;
  for (const NodeEvent& n : run.recording.nodes) {
    if (n.kind == sim::TraceKind::kNodeCrash) down[n.node] = true;
    if (n.kind == sim::TraceKind::kNodeRestart) down[n.node] = false;
  }
  for (const auto& [node, is_down] : down) {
    if (is_down) {
      verdict.UnjudgeExplained(
          Unjudged::kNoQuietPhase,
          "node " + std::to_string(node) + " crashed and was never restarted (a permanent fault)",
          "the permanent crash of node " + std::to_string(node));
      return verdict;
    }
  }

  std::optional<Time> completed;  // first completion at or after quiet
  std::optional<Time> finished;
  uint64_t final_checkpoint = 0;
  for (const CompletionRecord& c : run.recording.completions) {  // the HA pointer's writes
    if (c.time >= quiet && !completed) completed = c.time;
  }
  for (const EngineEventRecord& e : run.recording.events) {
    if (e.event == engine::EngineEvent::kJobFinished) {
      finished = e.time;
      final_checkpoint = static_cast<uint64_t>(e.args.final_checkpoint.value());
    }
  }

  const std::optional<uint64_t> breach = ReportedInjectedBreach(run);
  if (run.status == engine::JobStatus::kFailed) {
    if (breach) {
      verdict.UnjudgeExplained(
          Unjudged::kJobNotFinished,
          "the job failed after reporting checkpoint " + std::to_string(*breach) +
              " unreadable, which an injected storage fault destroyed: "
              "expected degradation (policy fail)",
          "the injected storage fault that destroyed checkpoint " + std::to_string(*breach));
    } else {
      verdict.Fail(Violation{"the job failed", Evidence{.time = finished, .detail = run.failure}});
    }
    return verdict;
  }

  const bool progressed = (completed && *completed <= deadline) ||
                          (finished && *finished <= deadline && final_checkpoint > 0);
  if (!progressed) {
    if (run.end < deadline) {
      verdict.Unjudge(Unjudged::kNoQuietPhase,
                      "the run ended " + Seconds(run.end - quiet) +
                          " after faults stopped, before the liveness bound of " + Seconds(bound));
    } else {
      verdict.Fail(Violation{
          "no checkpoint completed within the liveness bound after faults stopped",
          Evidence{.time = deadline,
                   .detail =
                       "faults stopped at t=" + std::to_string(quiet.nanos()) +
                       "ns; bound max(10 x interval, timeout + restart delay) = " + Seconds(bound) +
                       (completed ? "; the first completion came at t=" +
                                        std::to_string(completed->nanos()) + "ns"
                                  : "; none came")}});
    }
  }

  if (run.status != engine::JobStatus::kFinished) {
    verdict.Unjudge(Unjudged::kJobNotFinished,
                    "the run ended before the job reached end of input (status " +
                        std::string(engine::JobStatusName(run.status)) + ")");
    return verdict;
  }
  if (final_checkpoint == 0) {
    verdict.Fail(
        Violation{"the job finished without a final checkpoint", Evidence{.time = finished}});
  }
  const Coverage coverage = CoverageOf(run.view);
  for (const engine::RecordId& id : coverage.missing) {
    verdict.Fail(Violation{"the job finished but its committed output does not cover the input",
                           Evidence{.record = id,
                                    .time = finished,
                                    .detail = "this source record is reflected by no committed "
                                              "record"}});
  }
  return verdict;
}

}  // namespace faultline::checkers
