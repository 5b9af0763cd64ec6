// Verifies that committed histories are valid interleavings (ORACLES.md, "Order"), before the
// reference is replayed in their order: in each segment of a consumer task's history, the
// records it took from input channel i are a prefix, in order, of what i's producer sent it in
// the same attempt (every task of a job restarts together, so producer and consumer of one
// attempt started from the same checkpoint), after what the attempt's restore replays on that
// channel: the restored checkpoint's unaligned channel state (the consumer's persisted input
// channel state, then its producer's persisted output to it), which comes before any newer data
// of the channel. Any interleaving across channels is valid. Aligned and unaligned modes alike.
//
// What a producer sent is recomputed, not trusted: the reference runs the producer's chain over
// the producer's own log (the ids a source task emitted, or the records another task took in);
// a chain with keyed state starts from the state its attempt restored, rebuilt by running the
// chain over the committed history that checkpoint holds (history.h), so its output follows
// from its own logged order. The result is routed as the job's partitioners route (key groups for a
// hash edge, round robin from zero per attempt for rebalance, every consumer for broadcast).
#pragma once

#include "checkers/history.h"
#include "checkers/reference.h"
#include "checkers/run_view.h"
#include "checkers/verdict.h"

namespace faultline::checkers {

// Adds a violation per history segment that breaks a channel's order (the first break only), and
// leaves unjudged (order-unknown) the producers it cannot model (a keyed chain whose restored
// history the log cannot give) and segments whose restored channel state cannot be read. REQUIRES:
// run.order is set.
void CheckInterleavings(const RunView& run, const SourceIndex& sources, const Reference& reference,
                        const KeyedOrders& orders, Verdict& verdict);

}  // namespace faultline::checkers
