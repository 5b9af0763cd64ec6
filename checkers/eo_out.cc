#include "checkers/eo_out.h"

#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "checkers/history.h"
#include "checkers/interleaving.h"
#include "checkers/reference.h"

namespace faultline::checkers {
namespace {

using engine::Record;

// Per single-id provenance hash: how often it appears, and where first.
struct Reflection {
  uint64_t count = 0;
  size_t first = 0;
};

Evidence CommittedEvidence(const SourceIndex& index, const CommittedRecord& c) {
  Evidence e;
  e.record = index.IdOf(c.record.provenance);
  e.key = c.record.key;
  e.time = c.visible_at;
  return e;
}

std::string WhereCommitted(const CommittedRecord& c) {
  return c.writer + (c.txn.empty() ? "" : " in " + c.txn) +
         " at t=" + std::to_string(c.visible_at.nanos()) + "ns";
}

void CheckDuplicatesAndStrays(const RunView& run, const SourceIndex& index,
                              const std::unordered_map<uint64_t, uint64_t>& expected,
                              std::unordered_map<uint64_t, Reflection>& seen,
                              engine::Provenance& several, Verdict& verdict) {
  for (size_t i = 0; i < run.committed.size(); ++i) {
    const CommittedRecord& c = run.committed[i];
    const engine::Provenance& p = c.record.provenance;
    if (p.count == 0) continue;
    if (p.count > 1) {
      several += p;
      continue;
    }
    if (!index.IdOf(p)) {
      Evidence e = CommittedEvidence(index, c);
      e.detail = "provenance hash " + std::to_string(p.hash_sum) + ", " + WhereCommitted(c);
      verdict.Fail(Violation{"a committed record names no source record", std::move(e)});
      continue;
    }
    auto it = seen.try_emplace(p.hash_sum, Reflection{0, i}).first;
    ++it->second.count;
    auto want = expected.find(p.hash_sum);
    const uint64_t allowed = want == expected.end() ? 0 : want->second;
    if (it->second.count <= allowed) continue;
    Evidence e = CommittedEvidence(index, c);
    e.detail = "reflected " + std::to_string(it->second.count) + " times, the reference " +
               std::to_string(allowed) + "; first by " +
               WhereCommitted(run.committed[it->second.first]) + ", again by " + WhereCommitted(c);
    verdict.Fail(Violation{"a source record is reflected more than once in the committed output",
                           std::move(e)});
  }
}

void CheckProvenance(const RunView& run, const SourceIndex& index, const ReferenceResult& ref,
                     Verdict& verdict) {
  std::unordered_map<uint64_t, uint64_t> expected;
  std::unordered_map<uint64_t, std::string> expected_key;
  engine::Provenance expected_several;
  for (const Record& r : ref.sink) {
    if (r.provenance.count == 1) {
      ++expected[r.provenance.hash_sum];
      expected_key.try_emplace(r.provenance.hash_sum, r.key);
    } else if (r.provenance.count > 1) {
      expected_several += r.provenance;
    }
  }
  std::unordered_map<uint64_t, Reflection> seen;
  engine::Provenance several;
  CheckDuplicatesAndStrays(run, index, expected, seen, several, verdict);
  for (const SourceRecord& s : run.sources) {
    const uint64_t hash = s.id.Hash();
    auto want = expected.find(hash);
    auto got = seen.find(hash);
    const uint64_t wanted = want == expected.end() ? 0 : want->second;
    const uint64_t reflected = got == seen.end() ? 0 : got->second.count;
    if (reflected >= wanted) continue;
    Evidence e;
    e.record = s.id;
    e.key = expected_key[hash];
    e.detail = "the reference delivers it to the sink " + std::to_string(wanted) +
               " time(s), the committed output reflects it " + std::to_string(reflected);
    verdict.Fail(Violation{"a source record is missing from the committed output", std::move(e)});
  }
  if (several != expected_several) {
    Evidence e;
    e.detail = "records reflecting several ids: committed " + std::to_string(several.count) +
               " ids, the reference " + std::to_string(expected_several.count);
    verdict.Fail(Violation{"aggregated provenance differs from the reference", std::move(e)});
  }
}

void CheckPlaced(const engine::JobGraph& job, const SourceIndex& index, const ReferenceResult& ref,
                 Verdict& verdict) {
  for (const UnmatchedRecord& u : ref.unmatched) {
    Evidence e;
    e.record = index.IdOf(u.record.provenance);
    e.key = u.record.key;
    e.detail = "operator " + job.operators[u.op].name + " took " + FormatRecord(u.record);
    verdict.Fail(
        Violation{"a committed history processed a record the reference does not deliver "
                  "there (or not that often)",
                  std::move(e)});
  }
}

// Whether each key's outputs reach the sink in processing order: a keyed operator, and only
// forward edges after the last one.
bool KeepsKeyOrder(const engine::JobGraph& job) {
  std::optional<size_t> last_keyed;
  for (size_t i = 0; i < job.operators.size(); ++i) {
    if (job.operators[i].kind == engine::OperatorKind::kKeyedProcess) last_keyed = i;
  }
  if (!last_keyed) return false;
  for (size_t i = *last_keyed + 1; i < job.operators.size(); ++i) {
    if (job.operators[i].input_partitioner != engine::Partitioner::kForward) return false;
  }
  return true;
}

Violation ValueDiff(const SourceIndex& index, const CommittedRecord& c, const Record& want,
                    std::string what) {
  Evidence e = CommittedEvidence(index, c);
  e.detail = "committed " + FormatRecord(c.record) + " by " + WhereCommitted(c) +
             ", the reference " + FormatRecord(want);
  return Violation{std::move(what), std::move(e)};
}

// Pairs committed records with the reference's sink records (by single-id provenance, else by
// position among a key's records without one) and compares them.
class ValueComparison {
 public:
  ValueComparison(const SourceIndex& index, const ReferenceResult& ref, bool keeps_order)
      : index_(index), ref_(ref), keeps_order_(keeps_order) {
    for (size_t j = 0; j < ref.sink.size(); ++j) {
      const engine::Provenance& p = ref.sink[j].provenance;
      if (p.count == 1) {
        at_.try_emplace(p.hash_sum, j);
      } else {
        rest_[ref.sink[j].key].push_back(j);
      }
    }
  }

  void Compare(const CommittedRecord& c, Verdict& verdict) {
    std::optional<size_t> j = Pair(c, verdict);
    if (!j) return;
    const Record& want = ref_.sink[*j];
    if (want.key != c.record.key || want.value != c.record.value) {
      verdict.Fail(ValueDiff(index_, c, want, "a committed value differs from the reference"));
      return;
    }
    if (!keeps_order_) return;
    auto [it, first] = last_at_.try_emplace(c.record.key, *j);
    if (!first && *j < it->second) {
      verdict.Fail(ValueDiff(index_, c, want, "a key's committed records are out of order"));
    }
    it->second = *j;
  }

  void Finish(Verdict& verdict) {
    for (const auto& [key, list] : rest_) {
      if (taken_[key] >= list.size()) continue;
      Evidence e;
      e.key = key;
      e.detail = std::to_string(list.size() - taken_[key]) +
                 " reference output(s) without single-record provenance never committed";
      verdict.Fail(
          Violation{"reference outputs are missing from the committed output", std::move(e)});
    }
  }

 private:
  std::optional<size_t> Pair(const CommittedRecord& c, Verdict& verdict) {
    const engine::Provenance& p = c.record.provenance;
    if (p.count == 1) {
      auto it = at_.find(p.hash_sum);
      // Unknown or repeated ids were judged by the provenance check.
      if (it == at_.end() || !compared_.insert(p.hash_sum).second) return std::nullopt;
      return it->second;
    }
    const std::vector<size_t>& list = rest_[c.record.key];
    size_t& k = taken_[c.record.key];
    if (k < list.size()) return list[k++];
    Evidence e = CommittedEvidence(index_, c);
    e.detail = "committed " + FormatRecord(c.record) + " by " + WhereCommitted(c);
    verdict.Fail(
        Violation{"a committed record without single-record provenance has no "
                  "counterpart in the reference",
                  std::move(e)});
    return std::nullopt;
  }

  const SourceIndex& index_;
  const ReferenceResult& ref_;
  bool keeps_order_;
  std::unordered_map<uint64_t, size_t> at_;
  std::map<std::string, std::vector<size_t>> rest_;
  std::map<std::string, size_t> taken_;
  std::unordered_set<uint64_t> compared_;
  std::map<std::string, size_t> last_at_;
};

void CheckUpsertTable(const RunView& run, const ReferenceResult& ref, Verdict& verdict) {
  std::map<std::string, const CommittedRecord*> table;
  for (const CommittedRecord& c : run.committed) table[c.record.key] = &c;
  std::map<std::string, const Record*> want;
  for (const Record& r : ref.sink) want[r.key] = &r;
  for (const auto& [key, w] : want) {
    auto it = table.find(key);
    if (it != table.end() && it->second->record.value == w->value) continue;
    Evidence e;
    e.key = key;
    if (it != table.end()) e.time = it->second->visible_at;
    e.detail = "final table holds " +
               (it == table.end() ? std::string("nothing") : FormatRecord(it->second->record)) +
               ", the reference " + FormatRecord(*w);
    verdict.Fail(
        Violation{"the upsert sink's final table differs from the reference", std::move(e)});
  }
  for (const auto& [key, c] : table) {
    if (want.count(key) == 0) {
      verdict.Fail(Violation{"the upsert sink's final table has a key the reference never emits",
                             Evidence{.key = key, .time = c->visible_at}});
    }
  }
}

// The per-key orders of the committed histories, or nothing (with a note) when the run has no
// usable order log.
std::optional<KeyedOrders> CommittedOrders(const RunView& run, Verdict& verdict) {
  if (run.order == nullptr || run.order->overflowed()) {
    verdict.Unjudge(Unjudged::kOrderUnknown,
                    run.order == nullptr ? "no order log: the reference replays in source order"
                                         : "the order log overflowed: replaying in source order");
    return std::nullopt;
  }
  KeyedOrders orders = OrdersOf(*run.setup, *run.order, [](uint32_t) { return HistoryEnd{}; });
  for (const std::string& problem : orders.problems) {
    verdict.Unjudge(Unjudged::kOrderUnknown,
                    "history unknown, its keys replay in source order: " + problem);
  }
  return orders;
}

}  // namespace

Verdict CheckExactlyOnceOutput(const RunView& run) {
  Verdict verdict("EO-OUT");
  const engine::EngineConfig& config = run.setup->config;
  if (config.checkpoints.mode == engine::CheckpointMode::kAtLeastOnce) {
    verdict.Unjudge(Unjudged::kNothingToCheck,
                    "at-least-once mode does not promise exactly-once output");
    return verdict;
  }
  const engine::JobGraph& job = run.setup->job;
  const SourceIndex index(run.sources);
  const Reference reference(job);
  ReferenceInput input;
  for (const SourceRecord& s : run.sources) input.sources.push_back(s.record);
  std::optional<KeyedOrders> orders = CommittedOrders(run, verdict);
  if (orders) input.order = orders->order;
  const ReferenceResult ref = reference.Run(input);
  if (job.operators.back().sink.kind == engine::SinkKind::kUpsert) {
    verdict.Note("upsert sink: final table compared, provenance not (upserts are idempotent)");
    CheckUpsertTable(run, ref, verdict);
    return verdict;
  }
  CheckProvenance(run, index, ref, verdict);
  if (orders) CheckInterleavings(run, index, reference, *orders, verdict);
  CheckPlaced(job, index, ref, verdict);
  ValueComparison values(index, ref, KeepsKeyOrder(job));
  for (const CommittedRecord& c : run.committed) values.Compare(c, verdict);
  values.Finish(verdict);
  return verdict;
}

}  // namespace faultline::checkers
