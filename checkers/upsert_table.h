// EO-OUT for an upsert sink (eo_out.h): the final table, per key the last value written, against
// the reference replayed along the committed histories. An upsert sink is order-insensitive and
// idempotent, so provenance is not compared (a replay re-upserts what was already visible).
//
// A finished job's table holds, per key, the reference's last sink value, with one exception
// that is not the engine's fault: an upsert stays until overwritten, so a value an attempt wrote
// after the checkpoint the next attempt restored stays when the restored attempts never write
// that key again. Behind an order-dependent operator (a filter or a keyed function reading a
// running aggregate) the replay after the restore may take another path and never reach the key
// (Flink's upsert sinks show the same). Such a value is accepted when all of these hold:
//  - the attempt A that wrote it is left by the committed histories: they go on with a later
//    attempt, which restored checkpoint R (the first such attempt; R = 0: from the beginning);
//  - the reference's sink writes the key no more often along the committed histories than at
//    R's cut (the sources before R's offsets along the histories to R's snapshots, R's channel
//    state withheld where it was): the restored attempts never overwrote it;
//  - the reference along A's own history (to its end) gives the key that value past what it gave
//    at R's cut: A wrote it after R.
// A lost upsert of the restored attempts, a changed value and a key no history writes still fail.
// When R's cut cannot be replayed (its histories or channel state unknown) such a value is not
// judged (INCONCLUSIVE, order-unknown).
//
// When the job did not finish the table is a prefix's: each key must hold a value the
// reference's sink gives it at some point, along the committed histories or along the history of
// the attempt that wrote it; keys not yet written are not judged (INCONCLUSIVE, job-not-finished).
#pragma once

#include "checkers/eo_out.h"
#include "checkers/history.h"
#include "checkers/reference.h"
#include "checkers/run_view.h"
#include "checkers/verdict.h"

namespace faultline::checkers {

// `ref`: the reference replayed along the committed histories `orders` (null when the order log
// could not give them).
void CheckUpsertTable(const RunView& run, const ReferenceResult& ref, const KeyedOrders* orders,
                      const OutputJudging& judging, Verdict& verdict);

}  // namespace faultline::checkers
