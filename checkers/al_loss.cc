// AL-LOSS (ORACLES.md): every source record id is reflected in the committed output at least
// once; duplicates are counted and reported, never failed.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checkers/checker.h"
#include "checkers/coverage.h"
#include "checkers/derived.h"

namespace faultline::checkers {

namespace {

// Whether what checkpoint `c` put behind the sink was published. A two-phase-commit sink's
// records become visible only when their transactions commit (after the checkpoint completed,
// on its notification or on a restore): owed once every sink subtask that pre-committed
// transactions for `c` committed the newest of them, the one it pre-committed at its snapshot
// for `c`, which holds the records that reached it last before that snapshot. An older pending
// transaction committed (for an earlier checkpoint) publishes only that checkpoint's records;
// one dropped while the newest committed (FLINK-10377) still owes its records. Until then a job
// that stopped (a TaskManager down for good before the commit, a restore an injected storage
// fault made impossible) owes nothing behind `c`; TXN and LIVE judge the stop. Other sinks
// write visibly as they take records.
bool Published(const RunRecord& run, bool transactional, const CompletionRecord& c) {
  if (!transactional) return true;
  // writer ("sink#1" of "sink#1/attempt-1/txn-2") -> its newest pending transaction
  std::map<std::string, const engine::PendingTransaction*> newest;
  for (const engine::PendingTransaction& p : c.pending) {
    const engine::PendingTransaction*& n = newest[p.txn.substr(0, p.txn.find('/'))];
    if (n == nullptr || p.checkpoint_id > n->checkpoint_id) n = &p;
  }
  return std::all_of(newest.begin(), newest.end(), [&run](const auto& w) {
    return std::any_of(
        run.recording.calls.begin(), run.recording.calls.end(), [&w](const ServiceCall& call) {
          return call.service == sim::Service::kOutputStore && call.op == sim::ServiceOp::kCommit &&
                 call.target == w.second->txn && call.ok();
        });
  });
}

// Per source partition, the furthest offset a completed checkpoint whose output was published
// recorded, and which one: every record before it went through the sink before that
// checkpoint completed (the sink snapshots only after the barriers of all its inputs), so it is
// owed to the output even if the job never finishes. Unset when a completion's offsets are
// unknown. `unpublished`: completed checkpoints left out (their transactions never committed).
using Covered = std::map<uint32_t, std::pair<uint64_t, uint64_t>>;  // -> (offset, checkpoint)
std::optional<Covered> CoveredByCompletions(const RunRecord& run,
                                            std::vector<uint64_t>& unpublished) {
  const bool transactional =
      run.view.setup->job.operators.back().sink.kind == engine::SinkKind::kTwoPhaseCommit;
  Covered covered;
  for (const CompletionRecord& c : run.recording.completions) {
    if (!Published(run, transactional, c)) {
      unpublished.push_back(c.checkpoint);
      continue;
    }
    if (!c.source_offsets) return std::nullopt;
    for (const auto& [partition, offset] : *c.source_offsets) {
      auto& best = covered[partition];
      if (offset > best.first) best = {offset, c.checkpoint};
    }
  }
  return covered;
}

// What the missing records show: those owed (with why), and whether their judgement waits on an
// unknown order.
struct Owed {
  std::vector<std::pair<engine::RecordId, std::string>> missing;
  std::optional<std::string> order_unknown;  // set: `missing` is no finding
  uint64_t unfinished = 0;  // missing along the committed replay, owed by no published checkpoint
};

// Along the histories ending at a published checkpoint: which ids its attempts delivered to the
// sink before its snapshots (by position, as Coverage), and why that replay may be inexact.
struct AlongCheckpoint {
  std::vector<uint64_t> delivered;
  std::optional<std::string> inexact;
};

// An unfinished job owes a missing record only behind a published checkpoint's source offsets.
// Which records its attempts delivered to the sink before that checkpoint's snapshots depends,
// behind a keyed operator's filter or flat_map, on the order they processed each key's records:
// judged along the histories ending at that checkpoint (what its output was made from), not the
// newest attempts' (which, after a fallback to an older checkpoint, processed those records in
// another order or not at all).
Owed OwedByCompletions(const RunRecord& run, Derived& derived, const Coverage& coverage,
                       const std::optional<Covered>& covered) {
  const RunView& view = run.view;
  const SourceIndex& index = derived.Index();
  const bool order_dependent = FatesDependOnOrder(view.setup->job);
  std::map<uint64_t, AlongCheckpoint> along;  // checkpoint -> its replay's findings
  if (covered && order_dependent) {
    for (const auto& [partition, best] : *covered) {
      if (along.contains(best.second)) continue;
      const Derived::Replay& replay = derived.Committed(HistoryEnd{best.second, std::nullopt});
      along[best.second] = AlongCheckpoint{DeliveredByPosition(index, replay.result),
                                           InexactReplay(view, replay.orders, replay.result)};
    }
  }
  Owed out;
  for (size_t i = 0; i < view.sources.size(); ++i) {
    const size_t at = index.FirstWithId(i);
    if (coverage.committed_by_position[at] != 0) continue;
    const engine::RecordId& id = view.sources[i].id;
    const auto* behind = covered && id.source == 0 && covered->contains(id.partition)
                             ? &covered->at(id.partition)
                             : nullptr;
    if (behind != nullptr && id.offset >= behind->first) behind = nullptr;
    const AlongCheckpoint* replay = behind && order_dependent ? &along.at(behind->second) : nullptr;
    const bool owed =
        behind != nullptr &&
        (replay != nullptr ? replay->delivered[at] != 0 : coverage.delivered_by_position[at] != 0);
    if (!owed) {
      if (coverage.delivered_by_position[at] != 0) ++out.unfinished;
      continue;
    }
    if (replay != nullptr && replay->inexact && !out.order_unknown) {
      out.order_unknown =
          "which records reach the sink depends on the order a keyed operator "
          "processed them (a filter or flat_map follows it), and the order up to "
          "checkpoint " +
          std::to_string(behind->second) + " is not known exactly: " + *replay->inexact;
    }
    out.missing.emplace_back(id, "reflected 0 times; at least once expected (checkpoint " +
                                     std::to_string(behind->second) + " completed with partition " +
                                     std::to_string(id.partition) + " read to offset " +
                                     std::to_string(behind->first) + ")");
  }
  return out;
}

}  // namespace

Verdict CheckAtLeastOnce(const RunRecord& run, Derived* derived) {
  Verdict verdict("AL-LOSS");
  std::optional<Derived> own;
  if (derived == nullptr) derived = &own.emplace(run.view);
  const Coverage& coverage = derived->CoverageOfRun();
  const bool finished = run.status == engine::JobStatus::kFinished;
  std::vector<uint64_t> unpublished;
  Owed owed;
  if (finished) {
    for (const engine::RecordId& id : coverage.missing) {
      owed.missing.emplace_back(id, "reflected 0 times; at least once expected");
    }
    owed.order_unknown = coverage.order_unknown;
  } else {
    // A missing record is owed by an unfinished job only behind a published checkpoint's source
    // offsets (the rest are job-not-finished, whatever the order).
    owed = OwedByCompletions(run, *derived, coverage, CoveredByCompletions(run, unpublished));
  }
  if (owed.order_unknown && !owed.missing.empty()) {
    verdict.Unjudge(Unjudged::kOrderUnknown,
                    std::to_string(owed.missing.size()) +
                        " source records owed to the output and reflected by no committed record "
                        "are not judged: " +
                        *owed.order_unknown);
  } else {
    for (auto& [id, why] : owed.missing) {
      verdict.Fail(Violation{"a source record is missing from the committed output",
                             Evidence{.record = id, .detail = std::move(why)}});
    }
  }
  if (coverage.duplicates > 0) {
    verdict.Note(std::to_string(coverage.duplicates) + " duplicate committed records (" +
                 std::to_string(coverage.duplicated_ids) +
                 " source records reflected more than "
                 "once, one of them " +
                 std::to_string(coverage.max_times) + " times; first " +
                 FormatRecordId(*coverage.first_duplicate) +
                 " at t=" + std::to_string(coverage.first_duplicate_at->nanos()) +
                 "ns): allowed at least once");
  }
  if (coverage.unknown > 0) {
    verdict.Unjudge(Unjudged::kOutputUntraceable,
                    std::to_string(coverage.unknown) +
                        " committed records name a single id that is no source record");
  }
  if (coverage.aggregated > 0) {
    verdict.Unjudge(Unjudged::kOutputUntraceable,
                    std::to_string(coverage.aggregated) +
                        " sink records reflect several source records at once: not compared");
  }
  if (owed.unfinished > 0) {
    std::string left_out;
    for (uint64_t id : unpublished) left_out += (left_out.empty() ? "" : ", ") + std::to_string(id);
    verdict.Unjudge(Unjudged::kJobNotFinished,
                    "the job did not finish (" + std::string(engine::JobStatusName(run.status)) +
                        "): " + std::to_string(owed.unfinished) +
                        " records are not in the output yet, owed by no published checkpoint "
                        "(beyond its source offsets, or not delivered to the sink along its "
                        "histories)" +
                        (left_out.empty() ? std::string()
                                          : " (completed checkpoints whose transactions never "
                                            "committed: " +
                                                left_out + ")"));
  }
  return verdict;
}

}  // namespace faultline::checkers
