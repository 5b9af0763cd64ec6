// EO-OUT (ORACLES.md): the committed output is exactly once and equals the reference's.
//
// What it compares, in this order (the first violation found is the verdict's evidence):
//  1. Provenance. For every source record id, the committed records whose provenance is exactly
//     that id are as many as the reference delivers to the sink (one per record, none for a
//     record a filter drops). A shortfall is a missing record id (source, partition, offset);
//     an excess is a duplicate, reported at its extra occurrence with the simulated time it
//     became visible and the writer and transaction of both. Committed records that reflect
//     several ids at once are compared as one total; a provenance naming no source record is a
//     violation.
//  2. Order. Every task's committed history is a valid interleaving of its input channels
//     (interleaving.h), and every record a keyed task's history processed is one the reference
//     delivers to that operator, as often (a record processed twice is named).
//  3. Values. The reference replays each keyed operator per key in the order of its tasks'
//     committed histories (history.h: the newest attempt's whole log after the prefixes of the
//     checkpoints restored on the way). Each committed record naming one source id is compared
//     (key and value) with the reference's sink record of that id; records naming no id are
//     compared by position among such records of their key. When each key's outputs keep their
//     order to the sink (every operator after the last keyed one is forward-connected), each
//     key's committed records must also come in the reference's order. So each key's committed
//     sequence equals the reference's, record for record; for the running-sum example the last
//     committed value per key is the reference's final sum.
// An upsert sink is order-insensitive and idempotent: only its final table is compared (per key,
// the last committed value against the reference's last sink value); provenance is not, since
// a replay re-upserts what was already visible. A value an attempt wrote after the checkpoint the
// next attempt restored may stay when the restored attempts never write that key again
// (upsert_table.h says exactly when). When the job did not finish the table is a prefix's: each
// key must hold a value the reference's sink gives it at some point, and keys not yet written
// are not judged (INCONCLUSIVE, job-not-finished).
//
// Not checked in at-least-once mode. The newest attempt's whole log is taken as committed. When
// the job did not finish (OutputJudging::finished), the histories end at the newest completed
// checkpoint instead (OutputJudging::last_completed), records not yet committed are not judged
// missing (INCONCLUSIVE, job-not-finished); duplicates and wrong values still fail. A duplicate
// of a record that a reported fallback emits again, after an injected fault destroyed the
// checkpoint it fell back from, is expected degradation (a note); any other fails. Its values
// may equal the reference before the fallback. Records without single-record provenance in that
// range name no id: their first copies are told by the transactions that the checkpoints after
// the fallback one, up to the unreadable one, pre-committed (ReportedFallback::earlier_txns) and
// compared with the reference before the fallback, less what the reference to the fallback
// checkpoint (its channel state withheld) delivers to the sink, taken out record by record (key,
// value, provenance; not as a count from the front: records in flight to the sink at the cut
// reach it after later ones); the rest with the final reference as above. Without an
// order log the values are not compared (INCONCLUSIVE, order-unknown).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "checkers/degradation.h"
#include "checkers/run_view.h"
#include "checkers/verdict.h"

namespace faultline::checkers {

// What EO-OUT needs to know beyond the view: the breaches the engine reported (whose re-emitted
// records may be committed once more, ORACLES.md) and whether the job finished (if not, its
// committed output is a prefix: records not yet committed are not judged missing).
struct OutputJudging {
  std::vector<ReportedFallback> fallbacks;
  bool finished = true;
  // When the job did not finish: the newest checkpoint the HA pointer named. Everything committed
  // is behind it (a transaction commits only after its checkpoint completed), so the histories
  // the values replay end at its snapshots, not at each task's newest attempt, whose tasks may
  // have stopped at different attempts (a restore that failed part way).
  std::optional<uint64_t> last_completed;
};

class Derived;
// `derived` (may be null: a Derived of its own) supplies the source index and the replay along
// the committed histories.
Verdict CheckExactlyOnceOutput(const RunView& run, const OutputJudging& judging = {},
                               Derived* derived = nullptr);

}  // namespace faultline::checkers
