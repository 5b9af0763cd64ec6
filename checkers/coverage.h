// Which source records the committed output reflects, by provenance (AL-LOSS and LIVE): the
// ids the reference delivers to the sink, against the single-record provenance of every
// committed record.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

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
};

Coverage CoverageOf(const RunView& view);

}  // namespace faultline::checkers
