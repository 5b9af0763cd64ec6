// DET (ORACLES.md): the same seed, scenario and build give the same trace hash; the verdict
// names the build identity, since the hash is promised equal only for the same build.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "checkers/checker.h"

namespace faultline::checkers {
namespace {

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

}  // namespace

Verdict CheckDeterminism(const RunRecord& run, Derived* /*derived*/) {
  Verdict verdict("DET");
  const std::string build = "build " + run.build_identity;
  if (!run.trace_hashes) {
    verdict.Unjudge(Unjudged::kSecondRunNotMade,
                    "needs a second run of the same seed and scenario; this run's trace "
                    "hash is " +
                        Hex(run.trace_hash) + ", " + build);
    return verdict;
  }
  const auto [first, second] = *run.trace_hashes;
  if (first != second) {
    verdict.Fail(Violation{"the same seed, scenario and build gave two different trace hashes",
                           Evidence{.time = run.end,
                                    .detail = "first run " + Hex(first) + ", second run " +
                                              Hex(second) + "; " + build}});
    return verdict;
  }
  verdict.Note("trace hash " + Hex(first) + " in both runs, " + build);
  return verdict;
}

}  // namespace faultline::checkers
