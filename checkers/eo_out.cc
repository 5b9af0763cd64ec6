#include "checkers/eo_out.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "base/assert.h"
#include "checkers/channel_state.h"
#include "checkers/derived.h"
#include "checkers/history.h"
#include "checkers/interleaving.h"
#include "checkers/reference.h"
#include "checkers/upsert_table.h"

namespace faultline::checkers {
namespace {

using engine::Record;

// Per single-id provenance hash: how often it appears, and where first.
struct Reflection {
  uint64_t count = 0;
  size_t first = 0;
};

// Per single-id provenance hash that names a source record, by SourceIndex::FirstWithHash
// (hashes that name none are never looked up).
template <typename T>
using ByHash = std::vector<T>;

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

// How many times the reported fallbacks of `judging` emit `id` again (ORACLES.md: only records
// between the fallback checkpoint's offsets and the unreadable one's, and only when an injected
// fault destroyed the unreadable one).
uint64_t ExplainedTimes(const OutputJudging& judging, const engine::RecordId& id) {
  uint64_t times = 0;
  for (const ReportedFallback& f : judging.fallbacks) {
    if (f.destroyed_by_injection && f.Reemits(id)) ++times;
  }
  return times;
}

// A fallback from a checkpoint an injected fault destroyed, whose re-emitted range is unknown.
bool RangeUnknown(const OutputJudging& judging) {
  for (const ReportedFallback& f : judging.fallbacks) {
    if (f.destroyed_by_injection && f.fallback != 0 && !f.reemitted) return true;
  }
  return false;
}

void CheckDuplicatesAndStrays(const RunView& run, const SourceIndex& index,
                              const OutputJudging& judging, const ByHash<uint64_t>& expected,
                              ByHash<Reflection>& seen, engine::Provenance& several,
                              Verdict& verdict) {
  uint64_t explained = 0;
  for (size_t i = 0; i < run.committed.size(); ++i) {
    const CommittedRecord& c = run.committed[i];
    const engine::Provenance& p = c.record.provenance;
    if (p.count == 0) continue;
    if (p.count > 1) {
      several += p;
      continue;
    }
    const std::optional<size_t> at = index.FirstWithHash(p.hash_sum);
    if (!at) {
      Evidence e = CommittedEvidence(index, c);
      e.detail = "provenance hash " + std::to_string(p.hash_sum) + ", " + WhereCommitted(c);
      verdict.Fail(Violation{"a committed record names no source record", std::move(e)});
      continue;
    }
    Reflection& reflection = seen[*at];
    if (reflection.count++ == 0) reflection.first = i;
    const uint64_t allowed = expected[*at];
    if (reflection.count <= allowed) continue;
    // Each re-emission runs the record through the job again: it reaches the sink as many
    // times as the reference delivers it (behind a broadcast edge, more than once), and at least
    // once (the history before the fallback may have delivered a record the final one filters).
    const uint64_t per_reemission = std::max<uint64_t>(allowed, 1);
    if (reflection.count <= allowed + per_reemission * ExplainedTimes(judging, *index.IdOf(p))) {
      ++explained;
      continue;
    }
    Evidence e = CommittedEvidence(index, c);
    e.detail = "reflected " + std::to_string(reflection.count) + " times, the reference " +
               std::to_string(allowed) + "; first by " +
               WhereCommitted(run.committed[reflection.first]) + ", again by " + WhereCommitted(c);
    Violation v{"a source record is reflected more than once in the committed output",
                std::move(e)};
    if (RangeUnknown(judging)) {
      // A fallback emits some records again, but which is unknown: not told apart.
      verdict.Unjudge(Unjudged::kCheckpointSkipped, ToString(v));
    } else {
      verdict.Fail(std::move(v));
    }
  }
  if (explained > 0) {
    verdict.Note(std::to_string(explained) +
                 " committed records repeat a record that a reported fallback emits again "
                 "(expected degradation)");
  }
}

// A reported fallback from a checkpoint an injected fault destroyed whose re-emitted range is
// unknown: its duplicates cannot be told from the engine's.
void UnjudgeUnknownRanges(const OutputJudging& judging, Verdict& verdict) {
  for (const ReportedFallback& f : judging.fallbacks) {
    if (f.destroyed_by_injection && f.fallback != 0 && !f.reemitted) {
      verdict.Unjudge(Unjudged::kCheckpointSkipped,
                      f.Describe() + ", but " + f.why_unknown +
                          ": the records it emits again are unknown, so duplicates are not "
                          "told apart from the engine's");
    }
  }
}

// A record the reference commits that the run did not: a violation, or (the job did not
// finish, so its output is a prefix) not judged.
void Missing(const OutputJudging& judging, Violation violation, Verdict& verdict) {
  if (judging.finished) {
    verdict.Fail(std::move(violation));
  } else {
    verdict.Unjudge(Unjudged::kJobNotFinished,
                    "the job did not finish, so its output may be partial: " + ToString(violation));
  }
}

void CheckProvenance(const RunView& run, const SourceIndex& index, const ReferenceResult& ref,
                     const OutputJudging& judging, Verdict& verdict) {
  ByHash<uint64_t> expected(index.size(), 0);
  ByHash<const std::string*> expected_key(index.size(), nullptr);
  engine::Provenance expected_several;
  for (const Record& r : ref.sink) {
    if (r.provenance.count == 1) {
      if (std::optional<size_t> at = index.FirstWithHash(r.provenance.hash_sum)) {
        ++expected[*at];
        if (expected_key[*at] == nullptr) expected_key[*at] = &r.key;
      }
    } else if (r.provenance.count > 1) {
      expected_several += r.provenance;
    }
  }
  ByHash<Reflection> seen(index.size());
  engine::Provenance several;
  CheckDuplicatesAndStrays(run, index, judging, expected, seen, several, verdict);
  for (const SourceRecord& s : run.sources) {
    const std::optional<size_t> at = index.FirstWithHash(s.id.Hash());
    const uint64_t wanted = expected[*at];
    const uint64_t reflected = seen[*at].count;
    if (reflected >= wanted) continue;
    Evidence e;
    e.record = s.id;
    e.key = expected_key[*at] == nullptr ? std::string() : *expected_key[*at];
    e.detail = "the reference delivers it to the sink " + std::to_string(wanted) +
               " time(s), the committed output reflects it " + std::to_string(reflected);
    Missing(judging,
            Violation{"a source record is missing from the committed output", std::move(e)},
            verdict);
  }
  if (several != expected_several) {
    Evidence e;
    e.detail = "records reflecting several ids: committed " + std::to_string(several.count) +
               " ids, the reference " + std::to_string(expected_several.count);
    Violation v{"aggregated provenance differs from the reference", std::move(e)};
    if (several.count > expected_several.count) {
      verdict.Fail(std::move(v));
    } else {
      Missing(judging, std::move(v), verdict);
    }
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
  // `order_known`: the reference replayed the logged order; without it, order-dependent values
  // are not judged (the verdict already says order-unknown) rather than failed.
  ValueComparison(const SourceIndex& index, const ReferenceResult& ref, bool keeps_order,
                  bool order_known)
      : index_(index),
        ref_(ref),
        keeps_order_(keeps_order),
        order_known_(order_known),
        at_(index.size(), kNone),
        next_same_(ref.sink.size(), kNone),
        used_(ref.sink.size(), false) {
    std::vector<size_t> last(index.size(), kNone);  // per id: its latest sink record so far
    for (size_t j = 0; j < ref.sink.size(); ++j) {
      const engine::Provenance& p = ref.sink[j].provenance;
      if (p.count == 1) {
        if (std::optional<size_t> at = index.FirstWithHash(p.hash_sum)) {
          if (at_[*at] == kNone) at_[*at] = j;
          if (last[*at] != kNone) next_same_[last[*at]] = j;
          last[*at] = j;
        } else {
          other_at_.try_emplace(p.hash_sum, j);
        }
      } else {
        rest_[ref.sink[j].key].push_back(j);
      }
    }
  }

  // Records a reported fallback emits again were committed once as the attempts before the
  // fallback computed them and once as the restored attempt did, each valid in its own order:
  // a copy must equal the final reference or `earlier` (the reference replayed along the
  // histories that end at the unreadable checkpoint).
  void AllowEarlier(const ReferenceResult& earlier, const ReportedFallback& fallback) {
    for (const Record& r : earlier.sink) {
      if (r.provenance.count != 1) continue;
      std::optional<engine::RecordId> id = index_.IdOf(r.provenance);
      if (id && fallback.Reemits(*id)) earlier_[r.provenance.hash_sum].push_back(r);
    }
  }

  // Records without single-record provenance (a flat_map's further copies, an aggregate's
  // output) name no id to tell a re-emitted one by. Their first copy is told by its transaction
  // instead: one the checkpoints after the fallback one, up to the unreadable one, pre-committed
  // (`fallback.earlier_txns`). Such a record is compared with `earlier`'s sink records of its key
  // that `at_fallback` (the reference to the fallback checkpoint's offsets and snapshots, its
  // channel state withheld) does not hold: the range the attempts before the fallback emitted,
  // in their order. Taken out by identity (key, value, provenance), not as a count from the
  // front: records in flight to the sink at the fallback's cut reached it after later ones of
  // their key (the sink wrote them into the earlier transactions), so what `at_fallback` holds is
  // not always a prefix of `earlier`'s records of the key. Each takes out the first equal one
  // left, so a prefix is taken out exactly.
  void AllowEarlierCopies(const ReferenceResult& earlier, const ReferenceResult& at_fallback,
                          const ReportedFallback& fallback) {
    using Identity = std::tuple<int64_t, uint64_t, uint64_t>;
    const auto identity = [](const Record& r) {
      return Identity{r.value, r.provenance.count, r.provenance.hash_sum};
    };
    // Per key: such records that reached the sink before the fallback's cut, by identity.
    std::map<std::string, std::map<Identity, size_t>> before;
    for (const Record& r : at_fallback.sink) {
      if (r.provenance.count != 1) ++before[r.key][identity(r)];
    }
    EarlierCopies& copies = earlier_copies_.emplace_back();
    copies.txns = &fallback.earlier_txns;
    for (const Record& r : earlier.sink) {
      if (r.provenance.count == 1) continue;
      if (auto key = before.find(r.key); key != before.end()) {
        auto same = key->second.find(identity(r));
        if (same != key->second.end() && same->second > 0) {
          --same->second;
          continue;
        }
      }
      KeyCopies& key = copies.by_key[r.key];
      key.records.push_back(r);
      key.used.push_back(false);
    }
  }

  void Compare(const CommittedRecord& c, Verdict& verdict) {
    if (c.record.provenance.count == 1 && CompareReemitted(c, verdict)) return;
    if (c.record.provenance.count != 1 && CompareEarlierCopy(c, verdict)) return;
    std::optional<size_t> j = Pair(c, verdict);
    if (!j) return;
    const Record& want = ref_.sink[*j];
    if (!order_known_) return;
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

  void Finish(const OutputJudging& judging, Verdict& verdict) {
    if (earlier_copies_compared_ > 0) {
      verdict.Note(std::to_string(earlier_copies_compared_) +
                   " committed records without single-record provenance, written before a "
                   "reported fallback into the range it emits again, compared with the reference "
                   "before the fallback");
    }
    for (const auto& [key, list] : rest_) {
      if (taken_[key] >= list.size()) continue;
      Evidence e;
      e.key = key;
      e.detail = std::to_string(list.size() - taken_[key]) +
                 " reference output(s) without single-record provenance never committed";
      Missing(judging,
              Violation{"reference outputs are missing from the committed output", std::move(e)},
              verdict);
    }
  }

 private:
  // True when `c` repeats a record a fallback emits again (judged here).
  bool CompareReemitted(const CommittedRecord& c, Verdict& verdict) {
    auto alternatives = earlier_.find(c.record.provenance.hash_sum);
    if (alternatives == earlier_.end()) return false;
    auto same = [&c](const Record& r) {
      return r.key == c.record.key && r.value == c.record.value;
    };
    const std::optional<size_t> main = SinkAt(c.record.provenance.hash_sum);
    if (std::optional<size_t> at = index_.FirstWithHash(c.record.provenance.hash_sum)) {
      for (size_t j = at_[*at]; j != kNone; j = next_same_[j]) {  // every copy of the id
        if (same(ref_.sink[j])) return true;
      }
    } else if (main && same(ref_.sink[*main])) {
      return true;
    }
    for (const Record& r : alternatives->second) {
      if (same(r)) return true;
    }
    const Record& want = main ? ref_.sink[*main] : alternatives->second.front();
    verdict.Fail(ValueDiff(index_, c, want,
                           "a committed value of a record a reported fallback emits again "
                           "differs from the reference, before and after the fallback"));
    return true;
  }

  // True when `c`, without single-record provenance, was committed in a transaction that holds
  // the first copy of a fallback's re-emitted range (judged here, against the reference before
  // the fallback: the next record of its key when each key keeps its order to the sink, else one
  // equal to it if any is left).
  bool CompareEarlierCopy(const CommittedRecord& c, Verdict& verdict) {
    for (EarlierCopies& copies : earlier_copies_) {
      if (!copies.txns->contains(c.txn)) continue;
      KeyCopies& key = copies.by_key[c.record.key];
      std::optional<size_t> pick;
      for (size_t i = key.next; i < key.records.size(); ++i) {
        if (key.used[i]) continue;
        if (!pick) pick = i;
        if (keeps_order_ || key.records[i].value == c.record.value) {
          pick = i;
          break;
        }
      }
      if (!pick) {
        Evidence e = CommittedEvidence(index_, c);
        e.detail = "committed " + FormatRecord(c.record) + " by " + WhereCommitted(c);
        verdict.Fail(Violation{
            "a committed record without single-record provenance, written before a reported "
            "fallback into the range it emits again, has no counterpart in the reference",
            std::move(e)});
        return true;
      }
      key.used[*pick] = true;
      ++earlier_copies_compared_;
      while (key.next < key.used.size() && key.used[key.next]) ++key.next;
      const Record& want = key.records[*pick];
      if (order_known_ && want.value != c.record.value) {
        verdict.Fail(ValueDiff(index_, c, want,
                               "a committed value written before a reported fallback into the "
                               "range it emits again differs from the reference before it"));
      }
      return true;
    }
    return false;
  }

  std::optional<size_t> Pair(const CommittedRecord& c, Verdict& verdict) {
    const engine::Provenance& p = c.record.provenance;
    if (p.count == 1) {
      // Unknown or repeated ids were judged by the provenance check.
      if (std::optional<size_t> at = index_.FirstWithHash(p.hash_sum)) return TakeOfId(c, *at);
      const std::optional<size_t> j = SinkAt(p.hash_sum);
      if (!j || !other_compared_.insert(p.hash_sum).second) return std::nullopt;
      return j;
    }
    const std::vector<size_t>& list = rest_[c.record.key];
    size_t& k = taken_[c.record.key];
    if (k < list.size()) {
      ++k;
      return TakeOfKey(c.record, list);
    }
    Evidence e = CommittedEvidence(index_, c);
    e.detail = "committed " + FormatRecord(c.record) + " by " + WhereCommitted(c);
    verdict.Fail(
        Violation{"a committed record without single-record provenance has no "
                  "counterpart in the reference",
                  std::move(e)});
    return std::nullopt;
  }

  // A not yet taken reference record of `r`'s key among those without single-record provenance:
  // the next in order when each key's outputs keep their order to the sink; else (the records of
  // a key reach the sink over several channels, so they commit in any interleaving) one equal to
  // `r` (value and provenance) if any is left, else the first left (which then differs).
  size_t TakeOfKey(const Record& r, const std::vector<size_t>& list) {
    KeyPool& pool = pools_[r.key];
    if (pool.used.empty()) {
      pool.used.assign(list.size(), false);
      for (size_t i = 0; i < list.size(); ++i) {
        const Record& want = ref_.sink[list[i]];
        pool.by_identity[{want.value, want.provenance.count, want.provenance.hash_sum}].push_back(
            i);
      }
    }
    std::optional<size_t> pick;
    if (!keeps_order_) {
      auto equal = pool.by_identity.find({r.value, r.provenance.count, r.provenance.hash_sum});
      while (equal != pool.by_identity.end() && !equal->second.empty() && !pick) {
        const size_t i = equal->second.front();
        equal->second.pop_front();
        if (!pool.used[i]) pick = i;
      }
    }
    while (pool.first_free < list.size() && pool.used[pool.first_free]) ++pool.first_free;
    if (!pick) pick = pool.first_free;
    FL_ASSERT(*pick < list.size(), "a key's records are taken at most once each");
    pool.used[*pick] = true;
    return list[*pick];
  }

  // The reference's first sink record with this single-record provenance hash, if any.
  std::optional<size_t> SinkAt(uint64_t hash) const {
    if (std::optional<size_t> at = index_.FirstWithHash(hash)) {
      return at_[*at] == kNone ? std::nullopt : std::optional<size_t>(at_[*at]);
    }
    auto it = other_at_.find(hash);
    return it == other_at_.end() ? std::nullopt : std::optional<size_t>(it->second);
  }
  // A not yet taken reference sink record of the source record at `at`: one equal to `c` (key
  // and value) if any is left, else the first left (which then differs); none when every one is
  // taken (an excess the provenance check judged). One id reaches the sink several times behind
  // a broadcast edge, with values that depend on where each copy went.
  std::optional<size_t> TakeOfId(const CommittedRecord& c, size_t at) {
    std::optional<size_t> first_left;
    std::optional<size_t> pick;
    for (size_t j = at_[at]; j != kNone && !pick; j = next_same_[j]) {
      if (used_[j]) continue;
      if (!first_left) first_left = j;
      if (ref_.sink[j].key == c.record.key && ref_.sink[j].value == c.record.value) pick = j;
    }
    if (!pick) pick = first_left;
    if (pick) used_[*pick] = true;
    return pick;
  }

  static constexpr size_t kNone = SIZE_MAX;
  const SourceIndex& index_;
  const ReferenceResult& ref_;
  bool keeps_order_;
  bool order_known_;
  // By SourceIndex::FirstWithHash; hashes that name no source record in the maps.
  std::vector<size_t> at_;
  std::vector<size_t> next_same_;  // by sink record: the next one of the same source record
  std::vector<bool> used_;         // by sink record: paired with a committed one
  std::unordered_map<uint64_t, size_t> other_at_;
  std::unordered_set<uint64_t> other_compared_;
  std::map<std::string, std::vector<size_t>> rest_;
  std::map<std::string, size_t> taken_;
  // By key: which of rest_'s records are taken, and where the untaken ones of each value are.
  struct KeyPool {
    std::vector<bool> used;
    size_t first_free = 0;
    std::map<std::tuple<int64_t, uint64_t, uint64_t>, std::deque<size_t>> by_identity;
  };
  std::map<std::string, KeyPool> pools_;
  std::unordered_map<uint64_t, std::vector<Record>> earlier_;
  // Per fallback with earlier transactions: by key, the records without single-record
  // provenance the attempts before it emitted into the re-emitted range, in order.
  struct KeyCopies {
    std::vector<Record> records;
    std::vector<bool> used;
    size_t next = 0;  // the first not yet used
  };
  struct EarlierCopies {
    const std::set<std::string>* txns = nullptr;
    std::map<std::string, KeyCopies> by_key;
  };
  std::vector<EarlierCopies> earlier_copies_;
  uint64_t earlier_copies_compared_ = 0;
  std::unordered_map<std::string, size_t> last_at_;  // only looked up
};

// The per-key orders of the committed histories, or nothing (with a note) when the run has no
// usable order log.
// The replay along the committed histories: those of a finished job's newest attempts to their
// ends, or those ending at the last completed checkpoint while the job is unfinished. Without
// the logged order (INCONCLUSIVE, order-unknown) the values are not compared: `orders` unset.
const Derived::Replay& CommittedReplay(const RunView& run, const OutputJudging& judging,
                                       Derived& derived, Verdict& verdict) {
  HistoryEnd end;  // a finished job: each task's newest attempt, to its end
  if (!judging.finished && judging.last_completed) end.checkpoint_id = judging.last_completed;
  const Derived::Replay& replay = derived.Committed(end);
  if (!replay.orders) {
    verdict.Unjudge(Unjudged::kOrderUnknown,
                    run.order == nullptr
                        ? "no order log: committed values not compared"
                        : "the order log overflowed: committed values not compared");
    return replay;
  }
  for (const std::string& problem : replay.orders->problems) {
    verdict.Unjudge(Unjudged::kOrderUnknown,
                    "history unknown, committed values not compared: " + problem);
  }
  return replay;
}

// The reference replayed over the records before checkpoint `upto`'s offsets (the unreadable one
// or the fallback one), along the histories that end at its snapshots: with the unreadable one,
// what the attempts before the fallback committed.
std::optional<ReferenceResult> EarlierReference(const RunView& run, const ReportedFallback& f,
                                                uint64_t upto, Verdict& verdict) {
  if (run.order == nullptr || run.order->overflowed()) return std::nullopt;  // judged unordered
  KeyedOrders orders = OrdersOf(
      *run.setup, *run.order,
      [upto](uint32_t) {
        return HistoryEnd{upto, std::nullopt};
      },
      /*per_key=*/true, &run.rescaled_attempts);
  if (!orders.problems.empty()) {
    verdict.Unjudge(
        Unjudged::kOrderUnknown,
        "the histories up to checkpoint " + std::to_string(upto) + ", which the " +
            (upto == f.unreadable ? "engine fell back from: " : "engine fell back to: ") +
            orders.problems.front());
    return std::nullopt;
  }
  const bool to_unreadable = upto == f.unreadable;
  ReferenceInput input;
  for (const SourceRecord& s : run.sources) {
    auto range = f.reemitted->find(s.id.partition);
    if (range != f.reemitted->end() &&
        s.id.offset < (to_unreadable ? range->second.second : range->second.first)) {
      input.sources.push_back(s.record);
    }
  }
  input.order = std::move(orders.order);
  if (!to_unreadable) {
    // The fallback checkpoint's channel state (unaligned): records before its cut that had not
    // reached their consumer at its barrier; the sink wrote what they became after it, into the
    // transactions after it, as the restore writes it again. Taken out where they were.
    Result<RestoredChannels> channels = RestoredChannelsOf(SentBlobs(run), *run.setup, upto);
    if (!channels.ok()) {
      verdict.Unjudge(Unjudged::kChannelStateNotJudged,
                      "the channel state of checkpoint " + std::to_string(upto) +
                          ", which the engine fell back to: " + channels.status().ToString());
      return std::nullopt;
    }
    for (auto& [channel, records] : *channels) {
      const engine::ExecutionPlan& plan = run.setup->plan;
      std::vector<Record>& withheld =
          input.withheld[plan.chains[plan.tasks[channel.first].chain].first_operator];
      withheld.insert(withheld.end(), records.begin(), records.end());
    }
  }
  return Reference(run.setup->job).Run(std::move(input));
}

}  // namespace

Verdict CheckExactlyOnceOutput(const RunView& run, const OutputJudging& judging, Derived* derived) {
  Verdict verdict("EO-OUT");
  const engine::EngineConfig& config = run.setup->config;
  if (config.checkpoints.mode == engine::CheckpointMode::kAtLeastOnce) {
    verdict.Unjudge(Unjudged::kNothingToCheck,
                    "at-least-once mode does not promise exactly-once output");
    return verdict;
  }
  const engine::JobGraph& job = run.setup->job;
  std::optional<Derived> own;
  if (derived == nullptr) derived = &own.emplace(run);
  const SourceIndex& index = derived->Index();
  const Reference reference(job);
  const Derived::Replay& replay = CommittedReplay(run, judging, *derived, verdict);
  const std::optional<KeyedOrders>& orders = replay.orders;
  const ReferenceResult& ref = replay.result;
  if (job.operators.back().sink.kind == engine::SinkKind::kUpsert) {
    verdict.Note("upsert sink: final table compared, provenance not (upserts are idempotent)");
    CheckUpsertTable(run, ref, orders ? &*orders : nullptr, judging, verdict);
    return verdict;
  }
  UnjudgeUnknownRanges(judging, verdict);
  CheckProvenance(run, index, ref, judging, verdict);
  // A rescaled run's keys are followed across the rescale (OrdersOf walks each key group back
  // through its owners), its channels attempt by attempt at each attempt's parallelism.
  if (orders) CheckInterleavings(run, index, reference, *orders, verdict);
  CheckPlaced(job, index, ref, verdict);
  ValueComparison values(index, ref, KeepsKeyOrder(job),
                         orders.has_value() && orders->problems.empty());
  for (const ReportedFallback& f : judging.fallbacks) {
    if (!f.destroyed_by_injection || !f.reemitted) continue;
    std::optional<ReferenceResult> earlier = EarlierReference(run, f, f.unreadable, verdict);
    if (!earlier) continue;
    values.AllowEarlier(*earlier, f);
    if (f.earlier_txns.empty()) continue;
    if (std::optional<ReferenceResult> at_fallback =
            EarlierReference(run, f, f.fallback, verdict)) {
      values.AllowEarlierCopies(*earlier, *at_fallback, f);
    }
  }
  for (const CommittedRecord& c : run.committed) values.Compare(c, verdict);
  values.Finish(judging, verdict);
  return verdict;
}

}  // namespace faultline::checkers
