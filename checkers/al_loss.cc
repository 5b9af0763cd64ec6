// AL-LOSS (ORACLES.md): every source record id is reflected in the committed output at least
// once; duplicates are counted and reported, never failed.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checkers/checker.h"
#include "checkers/coverage.h"

namespace faultline::checkers {

namespace {

// Per source partition, the furthest offset a completed checkpoint recorded, and which one: every
// record before it went through the sink before that checkpoint completed (the sink snapshots
// only after the barriers of all its inputs), so it is owed to the output even if the job never
// finishes. Unset when a completion's offsets are unknown.
std::optional<std::map<uint32_t, std::pair<uint64_t, uint64_t>>> CoveredByCompletions(
    const Recording& recording) {
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> covered;  // partition -> (offset, checkpoint)
  for (const CompletionRecord& c : recording.completions) {
    if (!c.source_offsets) return std::nullopt;
    for (const auto& [partition, offset] : *c.source_offsets) {
      auto& best = covered[partition];
      if (offset > best.first) best = {offset, c.checkpoint};
    }
  }
  return covered;
}

}  // namespace

Verdict CheckAtLeastOnce(const RunRecord& run) {
  Verdict verdict("AL-LOSS");
  const Coverage coverage = CoverageOf(run.view);
  const bool finished = run.status == engine::JobStatus::kFinished;
  const auto covered = finished ? std::nullopt : CoveredByCompletions(run.recording);
  uint64_t unfinished = 0;
  if (coverage.order_unknown && !coverage.missing.empty()) {
    verdict.Unjudge(Unjudged::kOrderUnknown,
                    std::to_string(coverage.missing.size()) +
                        " source records reflected by no committed record are not judged: " +
                        *coverage.order_unknown);
  }
  const std::vector<engine::RecordId> none;
  for (const engine::RecordId& id : coverage.order_unknown ? none : coverage.missing) {
    std::string owed = "reflected 0 times; at least once expected";
    if (!finished) {
      // An unfinished job owes only what a completed checkpoint put behind it.
      const auto* behind = covered && id.source == 0 && covered->contains(id.partition)
                               ? &covered->at(id.partition)
                               : nullptr;
      if (behind == nullptr || id.offset >= behind->first) {
        ++unfinished;
        continue;
      }
      owed += " (checkpoint " + std::to_string(behind->second) + " completed with partition " +
              std::to_string(id.partition) + " read to offset " + std::to_string(behind->first) +
              ")";
    }
    verdict.Fail(Violation{"a source record is missing from the committed output",
                           Evidence{.record = id, .detail = std::move(owed)}});
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
    verdict.Unjudge(Unjudged::kJobNotFinished,
                    "the job did not finish (" + std::string(engine::JobStatusName(run.status)) +
                        "): " + std::to_string(unfinished) +
                        " records beyond every completed checkpoint's source offsets are not in "
                        "the output yet");
  }
  return verdict;
}

}  // namespace faultline::checkers
