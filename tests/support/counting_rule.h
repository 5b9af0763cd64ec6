// The counting rule of the rescale and savepoint tests, which holds whatever the interleaving:
// with a counting aggregate and a two-phase-commit sink, the committed values of key k are
// exactly 1..n(k), each once, where n(k) is the number of input records of k. A lost or doubled
// restore (state or offsets) breaks it with a repeated or missing count, a lost or doubly
// committed transaction with a missing or repeated one. Header-only.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "checkers/run_view.h"

namespace faultline::testing_support {

// Expects the rule over `view` (sources and committed output), which must hold `keys` keys.
inline void ExpectEveryInputCountedOnce(const checkers::RunView& view, size_t keys) {
  std::map<std::string, int64_t> inputs;
  for (const checkers::SourceRecord& r : view.sources) ++inputs[r.record.key];
  std::map<std::string, std::multiset<int64_t>> counts;
  for (const checkers::CommittedRecord& c : view.committed) {
    counts[c.record.key].insert(c.record.value);
  }
  ASSERT_EQ(inputs.size(), keys);
  ASSERT_EQ(counts.size(), inputs.size());
  for (const auto& [key, n] : inputs) {
    std::multiset<int64_t> expected;
    for (int64_t i = 1; i <= n; ++i) expected.insert(i);
    EXPECT_EQ(counts[key], expected) << "key " << key << " (" << n << " input records)";
  }
}

}  // namespace faultline::testing_support
