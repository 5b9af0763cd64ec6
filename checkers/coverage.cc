#include "checkers/coverage.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checkers/derived.h"
#include "checkers/history.h"
#include "checkers/reference.h"

namespace faultline::checkers {
namespace {

// Per expected id (by position): when its source record was last emitted, by any attempt (its
// input was available from then on), and when the output first reflected it (`reflected`, by
// position, from the pass over the committed records).
std::vector<Coverage::Wait> WaitsOf(const RunView& view, const SourceIndex& index,
                                    const std::vector<uint64_t>& expected,
                                    const std::vector<Time>& reflected) {
  std::vector<Time> available(index.size(), Time::Zero());
  if (view.order != nullptr && !view.order->overflowed()) {
    // Task indices are each generation's own (a rescaled attempt's plan numbers its tasks).
    for (uint32_t task = 0; task < TaskIndexBound(*view.setup); ++task) {
      for (const AttemptLog* log : view.order->AttemptsOf(task)) {
        const uint32_t generation = GenerationOfAttempt(view.rescaled_attempts, log->attempt);
        if (generation >= view.setup->generations()) continue;
        const engine::ExecutionPlan& plan = view.setup->PlanOf(generation);
        if (task >= plan.tasks.size() || !plan.IsSource(task)) continue;
        for (size_t i = 0; i < log->emitted_at.size() && i < log->emitted.size(); ++i) {
          const std::optional<size_t> at =
              index.FirstWithHash(engine::Provenance::Of(log->emitted[i]).hash_sum);
          if (!at) continue;
          Time& t = available[index.FirstWithId(*at)];
          t = std::max(t, log->emitted_at[i]);
        }
      }
    }
  }
  std::vector<Coverage::Wait> out;
  for (size_t at = 0; at < expected.size(); ++at) {
    if (expected[at] != 0) out.push_back(Coverage::Wait{available[at], reflected[at]});
  }
  return out;
}

// The position of the first source record of the id a single-record provenance names.
std::optional<size_t> PositionOf(const SourceIndex& index, const engine::Provenance& p) {
  if (p.count != 1) return std::nullopt;
  std::optional<size_t> at = index.FirstWithHash(p.hash_sum);
  if (!at) return std::nullopt;
  return index.FirstWithId(*at);
}

}  // namespace

bool FatesDependOnOrder(const engine::JobGraph& job) {
  bool keyed = false;
  for (const engine::OperatorSpec& op : job.operators) {
    if (op.kind == engine::OperatorKind::kKeyedProcess) {
      keyed = true;
    } else if (keyed && (op.kind == engine::OperatorKind::kFilter ||
                         op.kind == engine::OperatorKind::kFlatMap)) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> InexactReplay(const RunView& view,
                                         const std::optional<KeyedOrders>& orders,
                                         const ReferenceResult& result) {
  if (view.order == nullptr) return "no order log";
  if (!orders) return "the order log overflowed";
  if (!orders->problems.empty()) return "history unknown: " + orders->problems.front();
  if (!result.unmatched.empty()) {
    return std::to_string(result.unmatched.size()) +
           " records the committed histories processed are not delivered there that often "
           "(a replay after a restore)";
  }
  return std::nullopt;
}

std::vector<uint64_t> DeliveredByPosition(const SourceIndex& index,
                                          const ReferenceResult& reference, uint64_t* aggregated) {
  std::vector<uint64_t> delivered(index.size(), 0);
  for (const engine::Record& r : reference.sink) {
    if (std::optional<size_t> at = PositionOf(index, r.provenance)) {
      ++delivered[*at];
    } else if (r.provenance.count > 0 && aggregated != nullptr) {
      ++*aggregated;
    }
  }
  return delivered;
}

Coverage CoverageOf(const RunView& view, Derived* derived) {
  Coverage out;
  std::optional<Derived> own;
  if (derived == nullptr) derived = &own.emplace(view);
  const SourceIndex& index = derived->Index();
  const Derived::Replay& replay = derived->Committed(HistoryEnd{});
  const ReferenceResult& reference = replay.result;
  // Which ids reach the sink depends on order only behind a keyed operator's filter or flat_map:
  // otherwise any order gives the same ids, and an inexact replay is no reason for doubt.
  if (FatesDependOnOrder(view.setup->job)) {
    if (std::optional<std::string> inexact = InexactReplay(view, replay.orders, replay.result)) {
      out.order_unknown =
          "which records reach the sink depends on the order a keyed operator "
          "processed them (a filter or flat_map follows it), and that order is not "
          "known exactly: " +
          *inexact;
    }
  }

  // Per id (by the position of its first source record): expected and committed occurrences.
  auto position_of = [&index](const engine::Provenance& p) { return PositionOf(index, p); };
  std::vector<uint64_t> expected = DeliveredByPosition(index, reference, &out.aggregated);
  for (uint64_t n : expected) out.expected += n;
  std::vector<uint64_t> seen(index.size(), 0);
  std::vector<Time> reflected(index.size(), Time::Max());  // first visibility, by position
  for (const CommittedRecord& c : view.committed) {
    if (c.record.provenance.count != 1) continue;
    std::optional<size_t> at = position_of(c.record.provenance);
    if (!at) {
      ++out.unknown;
      continue;
    }
    const uint64_t n = ++seen[*at];
    if (n == 1) reflected[*at] = c.visible_at;  // visibility order: the first is the earliest
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
  out.waits = WaitsOf(view, index, expected, reflected);
  if (!out.missing.empty()) out.complete_at.reset();
  out.delivered_by_position = std::move(expected);
  out.committed_by_position = std::move(seen);
  return out;
}

}  // namespace faultline::checkers
