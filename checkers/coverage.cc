#include "checkers/coverage.h"

#include <optional>
#include <utility>
#include <vector>

#include "checkers/reference.h"

namespace faultline::checkers {

Coverage CoverageOf(const RunView& view) {
  Coverage out;
  const SourceIndex index(view.sources);
  ReferenceInput input;
  input.sources.reserve(view.sources.size());
  for (const SourceRecord& s : view.sources) input.sources.push_back(s.record);
  const ReferenceResult reference = Reference(view.setup->job).Run(std::move(input));

  // Per id (by the position of its first source record): expected and committed occurrences.
  auto position_of = [&index](const engine::Provenance& p) -> std::optional<size_t> {
    if (p.count != 1) return std::nullopt;
    std::optional<size_t> at = index.FirstWithHash(p.hash_sum);
    if (!at) return std::nullopt;
    return index.FirstWithId(*at);
  };
  std::vector<uint64_t> expected(index.size(), 0);
  for (const engine::Record& r : reference.sink) {
    if (std::optional<size_t> at = position_of(r.provenance)) {
      ++expected[*at];
      ++out.expected;
    } else if (r.provenance.count > 0) {
      ++out.aggregated;
    }
  }
  std::vector<uint64_t> seen(index.size(), 0);
  for (const CommittedRecord& c : view.committed) {
    if (c.record.provenance.count != 1) continue;
    std::optional<size_t> at = position_of(c.record.provenance);
    if (!at) {
      ++out.unknown;
      continue;
    }
    const uint64_t n = ++seen[*at];
    const bool is_expected = expected[*at] != 0;
    const uint64_t want = is_expected ? expected[*at] : 1;
    // Visibility order: an id's first occurrence is when the output first reflected it.
    if (n == 1 && is_expected && (!out.complete_at || c.visible_at > *out.complete_at)) {
      out.complete_at = c.visible_at;
    }
    if (n > want) {
      ++out.duplicates;
      if (n == want + 1) ++out.duplicated_ids;
      if (!out.first_duplicate) {
        out.first_duplicate = view.sources[*at].id;
        out.first_duplicate_at = c.visible_at;
      }
    }
    if (n > out.max_times) out.max_times = n;
  }
  for (size_t i = 0; i < view.sources.size(); ++i) {
    const size_t at = index.FirstWithId(i);
    if (expected[at] != 0 && seen[at] == 0) out.missing.push_back(view.sources[i].id);
  }
  if (!out.missing.empty()) out.complete_at.reset();
  return out;
}

}  // namespace faultline::checkers
