// Which source records the committed output reflects, by provenance (AL-LOSS and LIVE): the
// ids the reference delivers to the sink, against the single-record provenance of every
// committed record.
//
// Which ids reach the sink can depend on the order a keyed operator processed its keys' records:
// a filter or flat_map behind it reads the values it emits (a running sum is odd or not
// depending on which records came before). The reference therefore replays each keyed operator
// per key in the order of the tasks' committed histories (history.h, as EO-OUT does) whenever
// the run has a usable order log, and in stream order otherwise; in at-least-once mode a record
// a history processed again after a restore is processed again (ReferenceInput::repeats). When
// that replay is not exactly the engine's processing (no usable log, or the histories hold
// records the reference does not deliver there at all, or in an exactly-once mode not that
// often) and a filter or flat_map follows a keyed operator, the expected set is not known:
// `order_unknown` says why and `missing` is no finding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "checkers/history.h"
#include "checkers/reference.h"
#include "checkers/run_view.h"

namespace faultline::checkers {

struct Coverage {
  uint64_t expected = 0;                  // ids the reference delivers to the sink
  std::vector<engine::RecordId> missing;  // expected, never committed (source order)
  uint64_t duplicates = 0;                // committed occurrences beyond the expected count
  uint64_t duplicated_ids = 0;
  uint64_t max_times = 0;  // most occurrences of one id
  std::optional<engine::RecordId> first_duplicate;
  std::optional<Time> first_duplicate_at;  // when its extra occurrence became visible
  uint64_t unknown = 0;     // committed records naming one id that is no source record
  uint64_t aggregated = 0;  // reference sink records reflecting several ids (not compared)
  // When the committed output first reflected every expected id (the visibility time of the
  // record that completed it); unset while some id is missing, or when none is expected.
  std::optional<Time> complete_at;
  // Set (with the reason) when which ids reach the sink depends on a processing order the
  // reference could not replay exactly: `missing` and `complete_at` are then not evidence.
  std::optional<std::string> order_unknown;
  // Per expected id: when its source record was last emitted (Time::Zero() when the order log
  // has no emission times) and when the output first reflected it (Time::Max(): never).
  struct Wait {
    Time available;
    Time reflected = Time::Max();
  };
  std::vector<Wait> waits;
  // By position in the source index (the first source record of each id): how often the
  // reference delivers the id to the sink, and how often the committed output reflects it.
  std::vector<uint64_t> delivered_by_position;
  std::vector<uint64_t> committed_by_position;
};

// Whether a filter or flat_map follows a keyed operator: which records reach the sink may then
// depend on the order that operator processed each key's records.
bool FatesDependOnOrder(const engine::JobGraph& job);

// Why a replay along histories (`orders` unset: in stream order, without a usable order log)
// may differ from what the engine processed; nullopt when it may not.
std::optional<std::string> InexactReplay(const RunView& view,
                                         const std::optional<KeyedOrders>& orders,
                                         const ReferenceResult& result);

// By position in `index` (the first source record of each id): how often `reference` delivers
// the id to the sink by single-record provenance. `aggregated` (optional) counts the sink
// records that reflect several source records at once.
std::vector<uint64_t> DeliveredByPosition(const SourceIndex& index,
                                          const ReferenceResult& reference,
                                          uint64_t* aggregated = nullptr);

class Derived;
// `derived` (may be null: a Derived of its own) supplies the source index and the replay.
Coverage CoverageOf(const RunView& view, Derived* derived = nullptr);

}  // namespace faultline::checkers
