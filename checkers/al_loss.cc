// AL-LOSS (ORACLES.md): every source record id is reflected in the committed output at least
// once; duplicates are counted and reported, never failed. Judged when the job finished; a job
// that stopped (failed, or running at the time limit) leaves its missing records unjudged.
#include <string>

#include "checkers/checker.h"
#include "checkers/coverage.h"

namespace faultline::checkers {

Verdict CheckAtLeastOnce(const RunRecord& run) {
  Verdict verdict("AL-LOSS");
  const Coverage coverage = CoverageOf(run.view);
  // A job that did not finish committed a prefix of its output: a record missing from it may be
  // one not yet processed, not lost (as EO-OUT judges it; LIVE judges the stop itself).
  const bool finished = run.status == engine::JobStatus::kFinished;
  for (const engine::RecordId& id : coverage.missing) {
    Violation v{"a source record is missing from the committed output",
                Evidence{.record = id, .detail = "reflected 0 times; at least once expected"}};
    if (finished) {
      verdict.Fail(std::move(v));
    } else {
      verdict.Unjudge(Unjudged::kJobNotFinished,
                      "the job did not finish (" + std::string(engine::JobStatusName(run.status)) +
                          "), so its output may be partial: " + ToString(v));
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
  return verdict;
}

}  // namespace faultline::checkers
