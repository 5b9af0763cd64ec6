// LIVE (ORACLES.md): once faults stop, within max(10 x checkpoint interval, checkpoint timeout +
// restart delay) a checkpoint completes, and while input is left the committed output grows
// within every such bound (progress is records committed, not checkpoints); with finite input
// (the source log is bounded) the job reaches end of input, takes a final checkpoint, commits,
// and the committed output covers the whole input.
#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "checkers/checker.h"
#include "checkers/coverage.h"
#include "checkers/degradation.h"
#include "checkers/derived.h"

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

// A fault left in force at the end of the run is permanent: a node crashed and never restarted,
// paused and never resumed, or a network partition never healed. The job cannot be expected to
// go on (there are no spare slots, and a cut-off TaskManager is as good as lost). Its
// description, for the explanation; none when every fault ended.
std::optional<std::string> PermanentFault(const RunRecord& run) {
  std::map<uint32_t, sim::TraceKind> node_state;  // the node's last crash/restart/pause/resume
  std::map<int64_t, bool> partitioned;
  for (const NodeEvent& n : run.recording.nodes) {
    switch (n.kind) {
      case sim::TraceKind::kNodeCrash:
      case sim::TraceKind::kNodeRestart:
      case sim::TraceKind::kNodePause:
      case sim::TraceKind::kNodeResume:
        node_state[n.node] = n.kind;
        break;
      case sim::TraceKind::kPartition:
        partitioned[n.partition] = true;
        break;
      case sim::TraceKind::kHeal:
        partitioned[n.partition] = false;
        break;
      default:
        break;
    }
  }
  for (const auto& [node, kind] : node_state) {
    if (kind == sim::TraceKind::kNodeCrash) {
      return "the permanent crash of node " + std::to_string(node) + " (never restarted)";
    }
    if (kind == sim::TraceKind::kNodePause) {
      return "the permanent pause of node " + std::to_string(node) + " (never resumed)";
    }
  }
  for (const auto& [id, in_force] : partitioned) {
    if (in_force) return "network partition " + std::to_string(id) + ", never healed";
  }
  return std::nullopt;
}

std::string At(Time t) {
  return "t=" + std::to_string(t.nanos()) + "ns";
}

// A gap [since, until] between commits is a stall when some record the reference delivers to the
// sink was not yet reflected at `since` although its source record had been emitted (its input
// available) for longer than `bound` by `until`. A record whose input the source had not emitted
// yet (a slow source, a filter before the next output) is no stall.
// The moment the stall began (the earliest such record's input, or `since`, plus the bound).
std::optional<Time> GapStalls(const Coverage& coverage, Time since, Time until, Duration bound) {
  std::optional<Time> stalled;
  for (const Coverage::Wait& w : coverage.waits) {
    if (w.reflected <= since) continue;
    const Time waiting_from = std::max(since, w.available);
    if (until - waiting_from > bound && (!stalled || waiting_from + bound < *stalled)) {
      stalled = waiting_from + bound;
    }
  }
  return stalled;
}

// Progress is records committed: from `quiet` on, while some record the reference delivers to
// the sink is not yet reflected by the committed output, a committed record becomes visible (or
// the job finishes) within every `bound` of that record's input being emitted. The first gap
// longer than that, if any.
std::optional<Violation> CommitStall(const RunRecord& run, const Coverage& coverage, Time quiet,
                                     Duration bound, std::optional<Time> finished) {
  if (coverage.expected == 0) return std::nullopt;  // no record the output can be traced to
  // When input is left is unknown (rule 4 says order-unknown): not judged.
  if (coverage.order_unknown && !coverage.complete_at) return std::nullopt;
  // Input is left until the output reflects every expected record (for ever if it never does).
  const Time input_left_until = coverage.complete_at.value_or(Time::Max());
  Time since = quiet;
  uint64_t committed_before = 0;
  std::optional<Time> next;  // the gap's end: the next commit, the finish, or the run's end
  std::optional<Time> stalled;
  for (const CommittedRecord& c : run.view.committed) {
    if (since >= input_left_until) return std::nullopt;
    if (c.visible_at <= since) {
      ++committed_before;
      continue;
    }
    if (c.visible_at - since > bound &&
        (stalled = GapStalls(coverage, since, c.visible_at, bound))) {
      next = c.visible_at;
      break;
    }
    since = c.visible_at;
    ++committed_before;
  }
  if (since >= input_left_until) return std::nullopt;
  const Time until = next.value_or(finished.value_or(run.end));
  if (until - since <= bound) return std::nullopt;
  if (!stalled) stalled = GapStalls(coverage, since, until, bound);
  if (!stalled) return std::nullopt;
  uint64_t completed = 0;  // checkpoints completed meanwhile: not progress
  for (const CompletionRecord& c : run.recording.completions) {  // the HA pointer's writes
    if (c.time > since && c.time <= until) ++completed;
  }
  return Violation{
      "input was left but the committed output did not grow within the liveness bound after "
      "faults stopped",
      Evidence{
          .time = *stalled,
          .detail = std::to_string(committed_before) + " records committed by " + At(since) + "; " +
                    (next       ? "the next commit came at " + At(*next)
                     : finished ? "no commit until the job finished at " + At(until)
                                : "no commit after that (the run ended at " + At(until) + ")") +
                    "; bound " + Seconds(bound) + "; faults stopped at " + At(quiet) + "; " +
                    std::to_string(completed) + " checkpoints completed meanwhile (not progress)"}};
}

// Rule 1: a checkpoint completes (or the job finishes with a final checkpoint) within the bound
// after faults stopped. `completed`: the first completion at or after `quiet`.
void JudgeFirstCompletion(const RunRecord& run, Time quiet, Duration bound,
                          std::optional<Time> completed, bool finished_in_time, Verdict& verdict) {
  const Time deadline = quiet + bound;
  if ((completed && *completed <= deadline) || finished_in_time) return;
  if (run.end < deadline) {
    verdict.Unjudge(Unjudged::kNoQuietPhase,
                    "the run ended " + Seconds(run.end - quiet) +
                        " after faults stopped, before the liveness bound of " + Seconds(bound));
    return;
  }
  verdict.Fail(Violation{
      "no checkpoint completed within the liveness bound after faults stopped",
      Evidence{
          .time = deadline,
          .detail = "faults stopped at t=" + std::to_string(quiet.nanos()) +
                    "ns; bound max(10 x interval, timeout + restart delay) = " + Seconds(bound) +
                    (completed ? "; the first completion came at t=" +
                                     std::to_string(completed->nanos()) + "ns"
                               : "; none came")}});
}

}  // namespace

Verdict CheckLiveness(const RunRecord& run, Derived* derived) {
  Verdict verdict("LIVE");
  const Duration bound = LivenessBound(run.view.setup->config);
  const Time quiet = run.quiet_from.value_or(Time::Zero());
  const Time deadline = quiet + bound;

  if (std::optional<std::string> fault = PermanentFault(run)) {
    verdict.UnjudgeExplained(Unjudged::kNoQuietPhase,
                             *fault + ": a fault in force at the end of the run", *fault);
    return verdict;
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

  const bool finished_in_time = finished && *finished <= deadline && final_checkpoint > 0;
  JudgeFirstCompletion(run, quiet, bound, completed, finished_in_time, verdict);
  std::optional<Derived> own;
  if (derived == nullptr) derived = &own.emplace(run.view);
  const Coverage& coverage = derived->CoverageOfRun();
  if (std::optional<Violation> stall = CommitStall(run, coverage, quiet, bound, finished)) {
    verdict.Fail(std::move(*stall));
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
  if (coverage.order_unknown && !coverage.missing.empty()) {
    verdict.Unjudge(Unjudged::kOrderUnknown,
                    std::to_string(coverage.missing.size()) +
                        " source records reflected by no committed record are not judged: " +
                        *coverage.order_unknown);
    return verdict;
  }
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
