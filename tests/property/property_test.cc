// The property of faultline (issue 12): on every generated case (search/rc_generators.h), with
// every teaching switch off, every checker holds within the mode's guarantee. A VIOLATION fails;
// an INCONCLUSIVE fails unless a planned fault explains it; an ERROR fails. RapidCheck shrinks a
// failing case (fewer operators, lower parallelism, fewer records, fewer fault entries) and the
// smallest one is written as a scenario file into $FAULTLINE_REPRODUCER_DIR (ctest sets the build
// directory) with the command that replays it.
//
// Cases: RC_PARAMS="max_success=N" (ctest's default: FAULTLINE_PROPERTY_CASES, tests/property/
// CMakeLists.txt; docs/property_tests.md).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "search/harness.h"
#include "search/rc_generators.h"

namespace faultline {
namespace {

RC_GTEST_PROP(Property, EveryCheckerHoldsWithinTheModesGuarantee, ()) {
  const search::GeneratedCase c = *search::gen::Case({});
  // Every failing run (RapidCheck accepts each failing shrink) overwrites the same file, so it
  // ends up holding the smallest failing case.
  const harness::CaseResult r = harness::CheckCase(c, {.name = "property_failure"});
  if (!r.holds) {
    RC_FAIL(r.failure + "\nwritten to " + r.reproducer + "\nreplay: " + r.replay + "\n" +
            (r.report.name.empty() ? "" : scenarios::FormatReport(r.report)) + r.scenario_text);
  }
}

}  // namespace
}  // namespace faultline
