#include "checkers/coverage.h"

#include <map>
#include <tuple>

#include "checkers/reference.h"

namespace faultline::checkers {

Coverage CoverageOf(const RunView& view) {
  Coverage out;
  const SourceIndex index(view.sources);
  ReferenceInput input;
  input.sources.reserve(view.sources.size());
  for (const SourceRecord& s : view.sources) input.sources.push_back(s.record);
  const ReferenceResult reference = Reference(view.setup->job).Run(input);

  using IdKey = std::tuple<uint32_t, uint32_t, uint64_t>;
  auto key_of = [](const engine::RecordId& id) {
    return IdKey{id.source, id.partition, id.offset};
  };
  std::map<IdKey, uint64_t> expected;
  for (const engine::Record& r : reference.sink) {
    if (std::optional<engine::RecordId> id = index.IdOf(r.provenance)) {
      ++expected[key_of(*id)];
      ++out.expected;
    } else if (r.provenance.count > 0) {
      ++out.aggregated;
    }
  }
  std::map<IdKey, uint64_t> seen;
  for (const CommittedRecord& c : view.committed) {
    if (c.record.provenance.count != 1) continue;
    std::optional<engine::RecordId> id = index.IdOf(c.record.provenance);
    if (!id) {
      ++out.unknown;
      continue;
    }
    const uint64_t n = ++seen[key_of(*id)];
    const bool is_expected = expected.count(key_of(*id)) != 0;
    const uint64_t want = is_expected ? expected[key_of(*id)] : 1;
    // Visibility order: an id's first occurrence is when the output first reflected it.
    if (n == 1 && is_expected && (!out.complete_at || c.visible_at > *out.complete_at)) {
      out.complete_at = c.visible_at;
    }
    if (n > want) {
      ++out.duplicates;
      if (n == want + 1) ++out.duplicated_ids;
      if (!out.first_duplicate) {
        out.first_duplicate = *id;
        out.first_duplicate_at = c.visible_at;
      }
    }
    if (n > out.max_times) out.max_times = n;
  }
  for (const SourceRecord& s : view.sources) {
    if (expected.count(key_of(s.id)) && !seen.count(key_of(s.id))) out.missing.push_back(s.id);
  }
  if (!out.missing.empty()) out.complete_at.reset();
  return out;
}

}  // namespace faultline::checkers
