// EO-CUT (ORACLES.md): every completed checkpoint is a consistent cut.
//
// Which checkpoints: every version of every metadata blob "checkpoints/chk-N/_metadata" (and
// savepoint metadata blob "savepoints/sp-N/_metadata") the engine wrote during the run, decoded
// with DecodeMetadata, read through the blob store's tombstone view (RunView::history, SentBlobs):
// what cleanup deleted stays readable, without a copy of any blob, so every completed checkpoint is
// judged, not only the retained ones. Each blob is judged as the store holds it, or, when cleanup
// deleted it or an injected fault lost, corrupted or tore its put, as the engine wrote it (the
// version matching its handle). A metadata blob the HA pointer never came to name (the JobManager
// died in between) is judged too: it was written after every acknowledgement, so it must be a
// consistent cut as well.
//
// What it compares, per checkpoint and per subtask with keyed state:
//  - The cut: the source offsets the checkpoint recorded (the source subtasks' "source"
//    operator-state blobs). The records before the cut are those below their partition's
//    offset; a partition with records but no recorded offset is a violation.
//  - Channel state (unaligned checkpoints): the records of every input and output channel-state
//    blob are in flight: not yet through the first operator of the consuming chain. One with
//    single-record provenance must be before the cut (else a violation). For a keyed operator,
//    what is in flight upstream of it is not in its state: the reference's state at the barrier
//    is its run over the records before the cut with each in-flight record withheld where it was
//    (ReferenceInput::withheld, matched by key, value and provenance: the operators before that
//    point processed it, so a keyed operator there keeps it in its state and its later values;
//    none after did), so snapshot plus in-flight records must equal exactly the records before
//    the cut that route to the subtask. An in-flight record the reference does not deliver where
//    it was, or not that often (persisted twice; behind broadcast edges one record may
//    legitimately be in flight more than once, even to one subtask; a record reflecting no single
//    source record, a flat_map's later copy, is matched by key and value), is a violation: one
//    run from scratch per checkpoint with channel state, in the histories' per-key order (values
//    behind a keyed operator follow its order; without every history such a record is
//    order-unknown, not a violation).
//  - Provenance: the keyed blob is restored into a fresh heap backend over the subtask's key
//    groups and read per key; each key's "__provenance" must equal the reference's for that key
//    run over the records before the cut less those in flight (the sum of the provenance of
//    every record the reference delivers to the key), for every key the engine's routing (key
//    group, then subtask) gives this subtask, so the subtask's total is exactly the records before
//    the cut that route to it. A mismatch names a record where it can: one the order log shows
//    processed before the snapshot though behind the cut, or one before the cut the log does
//    not show, or else the single id whose hash is the difference.
//  - Values: every other entry of every key (value, list, map, reducing states) equals the
//    reference's, replayed over the records before the cut in the order of the subtask's history
//    up to its snapshot for this checkpoint (history.h; the attempt is the one named in the blob).
//    A key whose provenance is already wrong is not compared again on values.
//
// Blobs. A keyed blob whose checksum differs from its metadata handle is still read and
// compared: EO-CUT judges what the checkpoint holds, so an altered value shows as a value
// mismatch, and the checksum mismatch is added to that evidence (the blob changed after capture;
// whether by an injected storage fault is for DUR and REC to judge). A blob that is missing or
// fails its own checksum on restore cannot be judged: INCONCLUSIVE (checkpoint-skipped).
//
// Not checked: at-least-once mode (its checkpoints are not consistent cuts).
#pragma once

#include "checkers/run_view.h"
#include "checkers/verdict.h"

namespace faultline::checkers {

class Derived;
// `derived` (may be null: a Derived of its own) supplies the source index.
Verdict CheckConsistentCuts(const RunView& run, Derived* derived = nullptr);

}  // namespace faultline::checkers
