// Coverage-guided exploration (`faultline explore --guided`, docs/search.md "Guided
// exploration"): as a coverage-guided fuzzer keeps inputs that reach new code, seeds that reach
// rarely hit coverage markers are kept in a corpus and their fault plans mutated.
//
// An input is a scenario with an explicit fault plan (search::ExplicitScenario) and the seed it
// runs at. The first inputs are the plain seeds first_seed.. (a quarter of --seeds by default).
// Runs go in batches of `generation`: a batch of plain seeds, then a generation of mutants of kept
// inputs (search/mutate.h, each parent drawn with an energy that favours inputs reaching rare
// markers), alternating until the plain seeds are used up, then mutants only; each batch is made,
// run, and judged in run order. The keeping rule: a run that did not fail is kept when it reached a
// marker, or a pair of markers, that fewer than `keep_below` kept inputs had reached when it was
// judged.
//
// Deterministic: the mutants of a generation are drawn from one generator (seeded by the first
// seed) before any of them runs, from the corpus as it stood after the previous generation, and
// results are judged in run order; so the whole run is a function of the source, the seed range
// and the options, whatever the thread count. --seeds bounds the runs (plain and mutant);
// --time-budget stops taking new runs, and only the runs before the first one not run count.
#pragma once

#include "search/explore.h"

namespace faultline::search {

// InvalidArgument for --shard other than 1/1 (a guided run's later inputs depend on its earlier
// results, so its run order cannot be split across machines).
Result<ExploreReport> ExploreGuided(const ExploreOptions& options);

// A failing mutant's scenario file: a comment header saying where it came from, then the mutant
// (its explicit plan, its seed and the run's teaching switches written in), so
// `faultline run FILE` alone replays the failing run.
std::string MutantText(const FailingMutant& mutant);

}  // namespace faultline::search
