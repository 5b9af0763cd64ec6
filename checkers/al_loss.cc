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
// transactions for `c` committed one of them (a subtask that committed its newest and dropped an
// older one, FLINK-10377, still owes the older one's records). Until then a job that stopped (a
// TaskManager down for good before the commit, a restore an injected storage fault made
// impossible) owes nothing behind it; TXN and LIVE judge the stop. Other sinks write visibly as
// they take records.
bool Published(const RunRecord& run, bool transactional, const CompletionRecord& c) {
  if (!transactional) return true;
  std::map<std::string, bool> writers;  // writer ("sink#1" of "sink#1/attempt-1/txn-2") -> any
  for (const engine::PendingTransaction& p : c.pending) {
    bool& committed = writers[p.txn.substr(0, p.txn.find('/'))];
    committed = committed || std::any_of(run.recording.calls.begin(), run.recording.calls.end(),
                                         [&p](const ServiceCall& call) {
                                           return call.service == sim::Service::kOutputStore &&
                                                  call.op == sim::ServiceOp::kCommit &&
                                                  call.target == p.txn && call.ok();
                                         });
  }
  return std::all_of(writers.begin(), writers.end(), [](const auto& w) { return w.second; });
}

// Per source partition, the furthest offset a completed checkpoint whose output was published
// recorded, and which one: every record before it went through the sink before that
// checkpoint completed (the sink snapshots only after the barriers of all its inputs), so it is
// owed to the output even if the job never finishes. Unset when a completion's offsets are
// unknown. `unpublished`: completed checkpoints left out (their transactions never committed).
std::optional<std::map<uint32_t, std::pair<uint64_t, uint64_t>>> CoveredByCompletions(
    const RunRecord& run, std::vector<uint64_t>& unpublished) {
  const bool transactional =
      run.view.setup->job.operators.back().sink.kind == engine::SinkKind::kTwoPhaseCommit;
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> covered;  // partition -> (offset, checkpoint)
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

}  // namespace

Verdict CheckAtLeastOnce(const RunRecord& run, Derived* derived) {
  Verdict verdict("AL-LOSS");
  std::optional<Derived> own;
  if (derived == nullptr) derived = &own.emplace(run.view);
  const Coverage& coverage = derived->CoverageOfRun();
  const bool finished = run.status == engine::JobStatus::kFinished;
  std::vector<uint64_t> unpublished;
  const auto covered = finished ? std::nullopt : CoveredByCompletions(run, unpublished);
  // A missing record is owed: by a finished job, every one; by an unfinished job, only one
  // behind a published checkpoint's source offsets (the rest are job-not-finished, whatever the
  // order the keyed operators processed them in).
  uint64_t unfinished = 0;
  std::vector<std::pair<engine::RecordId, std::string>> owed;  // with why it is owed
  for (const engine::RecordId& id : coverage.missing) {
    std::string why = "reflected 0 times; at least once expected";
    if (!finished) {
      const auto* behind = covered && id.source == 0 && covered->contains(id.partition)
                               ? &covered->at(id.partition)
                               : nullptr;
      if (behind == nullptr || id.offset >= behind->first) {
        ++unfinished;
        continue;
      }
      why += " (checkpoint " + std::to_string(behind->second) + " completed with partition " +
             std::to_string(id.partition) + " read to offset " + std::to_string(behind->first) +
             ")";
    }
    owed.emplace_back(id, std::move(why));
  }
  if (coverage.order_unknown && !owed.empty()) {
    verdict.Unjudge(Unjudged::kOrderUnknown,
                    std::to_string(owed.size()) +
                        " source records owed to the output and reflected by no committed record "
                        "are not judged: " +
                        *coverage.order_unknown);
  } else {
    for (auto& [id, why] : owed) {
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
  if (unfinished > 0) {
    std::string left_out;
    for (uint64_t id : unpublished) left_out += (left_out.empty() ? "" : ", ") + std::to_string(id);
    verdict.Unjudge(Unjudged::kJobNotFinished,
                    "the job did not finish (" + std::string(engine::JobStatusName(run.status)) +
                        "): " + std::to_string(unfinished) +
                        " records beyond the source offsets of every published checkpoint are not "
                        "in the output yet" +
                        (left_out.empty() ? std::string()
                                          : " (completed checkpoints whose transactions never "
                                            "committed: " +
                                                left_out + ")"));
  }
  return verdict;
}

}  // namespace faultline::checkers
