#include "checkers/cut_reference.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "base/assert.h"
#include "checkers/key_groups.h"

namespace faultline::checkers {
namespace {

using engine::Record;

// What tells two records of one key apart (as Reference::Run's queues do).
using Identity = std::tuple<int64_t, uint64_t, uint64_t>;
Identity IdentityOf(const Record& r) {
  return {r.value, r.provenance.count, r.provenance.hash_sum};
}

bool SameRecord(const Record* a, const Record* b) {
  return a == b || *a == *b;
}

// The tasks of the chain `op` starts, in the order OrdersOf concatenates their histories.
std::vector<uint32_t> TasksOf(const engine::JobSetup& setup, uint32_t op) {
  std::vector<uint32_t> tasks;
  for (uint32_t c = 0; c < setup.plan.chains.size(); ++c) {
    if (setup.plan.chains[c].first_operator != op) continue;
    tasks.insert(tasks.end(), setup.plan.tasks_of_chain[c].begin(),
                 setup.plan.tasks_of_chain[c].end());
  }
  return tasks;
}

}  // namespace

CutReference::CutReference(const engine::JobSetup& setup, const std::vector<SourceRecord>& sources,
                           const SourceIndex& index, uint32_t op)
    : reference_(setup.job), op_(op), tasks_(TasksOf(setup, op)), index_(index) {
  FL_ASSERT(index.size() == sources.size(), "the index of these sources");
  FL_ASSERT(op > 0 && op < setup.job.operators.size() &&
            setup.job.operators[op].kind == engine::OperatorKind::kKeyedProcess);
  for (uint32_t i = 1; i < op; ++i) {
    FL_ASSERT(setup.job.operators[i].kind != engine::OperatorKind::kKeyedProcess,
              "only stateless operators before the keyed one");
  }
  first_arrival_.reserve(sources.size() + 1);
  arrivals_.reserve(sources.size());  // at least one arrival per source record, most often
  std::vector<Record> arriving;
  for (const SourceRecord& s : sources) {
    first_arrival_.push_back(static_cast<uint32_t>(arrivals_.size()));
    arriving.clear();
    reference_.AppendArriving(op, s.record, arriving);
    for (Record& r : arriving) {
      const uint32_t key = Intern(r.key);
      if (arrivals_of_key_.size() <= key) arrivals_of_key_.resize(key + 1);
      arrivals_of_key_[key].push_back(static_cast<uint32_t>(arrivals_.size()));
      arrivals_.push_back(Arrival{key, std::move(r)});
    }
  }
  first_arrival_.push_back(static_cast<uint32_t>(arrivals_.size()));
  arrival_in_.assign(arrivals_.size(), 0);
}

uint32_t CutReference::Intern(const std::string& key) {
  auto [it, inserted] = key_ids_.try_emplace(key, static_cast<uint32_t>(key_names_.size()));
  if (inserted) {
    key_names_.push_back(key);
    entries_.emplace_back();
  }
  return it->second;
}

const std::vector<uint32_t>& CutReference::KeysOf(const AttemptLog& log) {
  std::vector<uint32_t>& keys = logged_keys_[&log];
  while (keys.size() < log.processed.size()) {
    keys.push_back(Intern(log.processed[keys.size()].record.key));
  }
  return keys;
}

// Which arrivals are at the operator's input at the cut (arrival_in_): those of the included
// sources, less one per withheld record; and how that changed since the previous cut
// (only_gained_, came_in_). The withheld records with none to take out.
std::vector<Record> CutReference::Include(const SourceRanges& included,
                                          const std::vector<Record>& withheld) {
  for (uint32_t a : taken_) arrival_in_[a] = 1;  // back to the previous cut's included sources
  const std::vector<uint32_t> previously_taken = std::move(taken_);
  taken_.clear();
  const bool covers = IncludeAdded(included);
  ranges_ = included;
  std::vector<Record> unmatched = Withhold(withheld);
  if (covers) {
    NetChange(previously_taken);
  } else {
    only_gained_ = false;
  }
  return unmatched;
}

// Brings arrival_in_ from the previous cut's included sources to `included`'s. True when
// `included` covers every source the previous cut included: added_ then lists the arrivals newly
// included, ascending. Otherwise arrival_in_ is set from scratch.
bool CutReference::IncludeAdded(const SourceRanges& included) {
  added_.clear();
  const auto add = [this](uint32_t from, uint32_t to) {
    for (uint32_t a = first_arrival_[from]; a < first_arrival_[to]; ++a) {
      arrival_in_[a] = 1;
      added_.push_back(a);
    }
  };
  uint32_t end = 0;
  for (const auto& [first, last] : included) {
    FL_ASSERT(end <= first && first <= last && last < first_arrival_.size(),
              "source ranges ascending, disjoint, within the sources");
    end = last;
  }
  size_t j = 0;  // the previous cut's ranges not yet inside one of `included`
  bool covers = true;
  for (const auto& [first, last] : included) {
    uint32_t at = first;
    while (j < ranges_.size() && ranges_[j].first >= at && ranges_[j].second <= last) {
      add(at, ranges_[j].first);
      at = ranges_[j].second;
      ++j;
    }
    if (j < ranges_.size() && ranges_[j].first < last) {
      covers = false;  // a previous range reaches outside this one
      break;
    }
    add(at, last);
  }
  if (covers && j == ranges_.size()) return true;
  added_.clear();
  arrival_in_.assign(arrivals_.size(), 0);
  for (const auto& [first, last] : included) {
    for (uint32_t a = first_arrival_[first]; a < first_arrival_[last]; ++a) arrival_in_[a] = 1;
  }
  return false;
}

// Takes one included arrival out per withheld record (taken_, ascending); those with none to take
// out are returned.
std::vector<Record> CutReference::Withhold(const std::vector<Record>& withheld) {
  std::vector<Record> unmatched;
  auto take = [this](const Record& w, uint32_t a) {
    if (!arrival_in_[a] || arrivals_[a].record.key != w.key ||
        IdentityOf(arrivals_[a].record) != IdentityOf(w)) {
      return false;
    }
    arrival_in_[a] = 0;
    taken_.push_back(a);
    return true;
  };
  for (const Record& w : withheld) {
    bool taken = false;
    if (w.provenance.count == 1) {  // from its source record
      if (std::optional<size_t> source = index_.FirstWithHash(w.provenance.hash_sum)) {
        const size_t i = *source;
        for (uint32_t a = first_arrival_[i]; a < first_arrival_[i + 1] && !taken; ++a) {
          taken = take(w, a);
        }
      }
    } else if (auto key = key_ids_.find(w.key); key != key_ids_.end()) {
      // No single source: the latest arrival of its key equal to it, as Reference::Run takes.
      const std::vector<uint32_t>& of_key = arrivals_of_key_[key->second];
      for (auto a = of_key.rbegin(); a != of_key.rend() && !taken; ++a) taken = take(w, *a);
    }
    if (!taken) unmatched.push_back(w);
  }
  std::sort(taken_.begin(), taken_.end());
  return unmatched;
}

// With the cut's sources covering the previous cut's: whether no arrival in at the previous cut
// is out now (only_gained_), and then which came in (came_in_, ascending).
void CutReference::NetChange(const std::vector<uint32_t>& previously_taken) {
  const auto in = [](const std::vector<uint32_t>& sorted, uint32_t a) {
    return std::binary_search(sorted.begin(), sorted.end(), a);
  };
  came_in_.clear();
  for (uint32_t a : taken_) {
    if (!in(added_, a) && !in(previously_taken, a)) {  // in at the previous cut, out now
      only_gained_ = false;
      return;
    }
  }
  only_gained_ = true;
  for (uint32_t a : added_) {
    if (arrival_in_[a]) came_in_.push_back(a);
  }
  const auto middle = static_cast<std::ptrdiff_t>(came_in_.size());
  for (uint32_t a : previously_taken) {  // none of them newly included: they were included
    if (arrival_in_[a]) came_in_.push_back(a);
  }
  std::inplace_merge(came_in_.begin(), came_in_.begin() + middle, came_in_.end());
}

// Every key's logged records and arrivals at the cut: appended to the previous cut's when this
// cut extends it (GatherAppended), else from scratch (GatherAll). Keys whose lists changed are
// `touched`.
void CutReference::Gather(const KeyedOrders* orders) {
  Histories histories(tasks_.size(), nullptr);
  if (orders != nullptr) {
    for (size_t t = 0; t < tasks_.size(); ++t) {
      auto it = orders->histories.find(tasks_[t]);
      if (it != orders->histories.end()) histories[t] = &it->second;
    }
  }
  appended_ = GatherAppended(orders != nullptr, histories);
  if (!appended_) GatherAll(histories);
  previous_ = true;
  previous_ordered_ = orders != nullptr;
  previous_histories_.assign(tasks_.size(), std::nullopt);
  for (size_t t = 0; t < tasks_.size(); ++t) {
    if (histories[t] != nullptr) previous_histories_[t] = *histories[t];
  }
}

void CutReference::GatherAll(const Histories& histories) {
  for (KeyEntry& entry : entries_) {
    entry.logged.clear();
    entry.arrived.clear();
    entry.last_task = 0;
    entry.touched = true;
  }
  for (uint32_t a = 0; a < arrivals_.size(); ++a) {
    if (arrival_in_[a]) entries_[arrivals_[a].key].arrived.push_back(a);
  }
  // As OrdersOf: the operator's tasks in order, each history oldest segment first.
  for (size_t t = 0; t < histories.size(); ++t) {
    if (histories[t] == nullptr) continue;
    for (const HistorySegment& segment : *histories[t]) AppendLogged(segment, 0, t);
  }
  for (KeyEntry& entry : entries_) entry.touched = true;  // keys interned meanwhile too
}

void CutReference::AppendLogged(const HistorySegment& segment, size_t from, size_t task) {
  const std::vector<uint32_t>& keys = KeysOf(*segment.log);
  for (size_t i = from; i < segment.processed_end; ++i) {
    KeyEntry& entry = entries_[keys[i]];
    entry.logged.push_back(&segment.log->processed[i].record);
    entry.last_task = task;
    entry.touched = true;
  }
}

// The usual step from one cut to the next: no arrival at the previous cut is missing at this
// one, and each task's history is its previous one with more records in its last segment, none
// of a key that already has records from a later task. Then every key's lists are its previous
// ones with records added (arrivals merged in stream order), and only the keys that received
// some are touched. False, changing nothing, otherwise.
bool CutReference::GatherAppended(bool ordered, const Histories& histories) {
  if (!previous_ || ordered != previous_ordered_) return false;
  std::vector<size_t> from(tasks_.size(), 0);  // per task: where its new records start
  for (size_t t = 0; t < tasks_.size(); ++t) {
    const std::optional<std::vector<HistorySegment>>& before = previous_histories_[t];
    if ((histories[t] == nullptr) != !before.has_value()) return false;
    if (histories[t] == nullptr) continue;
    const std::vector<HistorySegment>& now = *histories[t];
    if (now.size() != before->size()) return false;
    for (size_t s = 0; s < now.size(); ++s) {
      const size_t was = (*before)[s].processed_end;
      const bool last = s + 1 == now.size();
      if (now[s].log != (*before)[s].log) return false;
      if (last ? now[s].processed_end < was : now[s].processed_end != was) return false;
    }
    if (!now.empty()) from[t] = before->back().processed_end;
  }
  if (!only_gained_) return false;
  for (size_t t = 0; t < tasks_.size(); ++t) {  // each key's records stay in task order
    if (histories[t] == nullptr || histories[t]->empty()) continue;
    const HistorySegment& last = histories[t]->back();
    const std::vector<uint32_t>& keys = KeysOf(*last.log);
    for (size_t i = from[t]; i < last.processed_end; ++i) {
      const KeyEntry& entry = entries_[keys[i]];
      if (!entry.logged.empty() && entry.last_task > t) return false;
    }
  }
  for (KeyEntry& entry : entries_) {
    entry.touched = false;
    entry.added.clear();
  }
  for (size_t t = 0; t < tasks_.size(); ++t) {
    if (histories[t] != nullptr && !histories[t]->empty()) {
      AppendLogged(histories[t]->back(), from[t], t);
    }
  }
  for (uint32_t a : came_in_) {
    KeyEntry& entry = entries_[arrivals_[a].key];
    entry.touched = true;
    const bool in_order = entry.arrived.empty() || entry.arrived.back() < a;
    entry.arrived.push_back(a);
    entry.added.push_back(a);
    if (!in_order) {
      std::inplace_merge(entry.arrived.begin(), entry.arrived.end() - 1, entry.arrived.end());
    }
  }
  return true;
}

std::vector<Record> CutReference::Advance(const std::vector<bool>& included,
                                          const KeyedOrders* orders,
                                          const std::vector<Record>& withheld) {
  FL_ASSERT(included.size() + 1 == first_arrival_.size());
  SourceRanges ranges;
  for (uint32_t i = 0; i < included.size(); ++i) {
    if (!included[i]) continue;
    if (!ranges.empty() && ranges.back().second == i) {
      ranges.back().second = i + 1;
    } else {
      ranges.emplace_back(i, i + 1);
    }
  }
  return Advance(ranges, orders, withheld);
}

std::vector<Record> CutReference::Advance(const SourceRanges& included, const KeyedOrders* orders,
                                          const std::vector<Record>& withheld) {
  std::vector<Record> unmatched = Include(included, withheld);
  Gather(orders);
  for (KeyEntry& entry : entries_) {
    if (!entry.touched) continue;  // the same lists as at the previous cut: the same state
    entry.digest_stale = true;
    if (entry.arrived.empty()) {  // no record reaches the key: it has no state at this cut
      entry.queue.clear();
      entry.queue_arrivals.clear();
      entry.clean = false;
      entry.state = KeyState{};
      continue;
    }
    if (Extend(entry)) {
      ++stats_.extended;
    } else {
      Refold(entry);
    }
  }
  return unmatched;
}

// The usual case, without building the queue: the state reflects a clean queue (the logged order,
// matching its arrivals as a multiset), this cut's logged order extends it, its arrivals include
// those (arrival indices are in stream order, so both lists are sorted), and the new logged
// records match the new arrivals as a multiset: the queue is this cut's logged order.
//
// After GatherAppended the lists are the previous cut's with records added, and the state
// reflects the previous cut's lists (a clean queue is its logged order, its arrivals were all of
// them): the prefix and the inclusion hold without comparing, and the new arrivals are `added`.
bool CutReference::Extend(KeyEntry& entry) {
  const size_t logged = entry.queue.size();
  if (!entry.clean || entry.logged.size() < logged) return false;
  if (!appended_) {
    if (!std::equal(entry.queue.begin(), entry.queue.end(), entry.logged.begin(), SameRecord)) {
      return false;
    }
    if (!std::includes(entry.arrived.begin(), entry.arrived.end(), entry.queue_arrivals.begin(),
                       entry.queue_arrivals.end())) {
      return false;
    }
  }
  std::vector<Identity>& new_logged = new_logged_;
  std::vector<Identity>& new_arrived = new_arrived_;
  new_logged.clear();
  new_arrived.clear();
  for (size_t i = logged; i < entry.logged.size(); ++i) {
    new_logged.push_back(IdentityOf(*entry.logged[i]));
  }
  if (appended_) {
    for (uint32_t a : entry.added) new_arrived.push_back(IdentityOf(arrivals_[a].record));
  } else {
    auto old_arrival = entry.queue_arrivals.begin();
    for (uint32_t a : entry.arrived) {
      if (old_arrival != entry.queue_arrivals.end() && *old_arrival == a) {
        ++old_arrival;
      } else {
        new_arrived.push_back(IdentityOf(arrivals_[a].record));
      }
    }
  }
  std::sort(new_logged.begin(), new_logged.end());
  std::sort(new_arrived.begin(), new_arrived.end());
  if (new_logged != new_arrived) return false;
  entry.queue.insert(entry.queue.end(), entry.logged.begin() + static_cast<std::ptrdiff_t>(logged),
                     entry.logged.end());
  entry.queue_arrivals.assign(entry.arrived.begin(), entry.arrived.end());
  Process(entry, logged);
  return true;
}

// Reference::Run's queue for the key (QueueByKey), then the fold: from the previous state when
// the queue extends the one it reflects, else from the first record.
void CutReference::Refold(KeyEntry& entry) {
  std::map<Identity, uint64_t> arriving;
  for (uint32_t a : entry.arrived) ++arriving[IdentityOf(arrivals_[a].record)];
  std::map<Identity, uint64_t> taken;
  std::vector<const Record*> queue;
  bool clean = true;
  for (const Record* r : entry.logged) {
    uint64_t& left = arriving[IdentityOf(*r)];
    if (left == 0) {
      clean = false;  // logged but not arriving: the full run reports it unmatched
      continue;
    }
    --left;
    ++taken[IdentityOf(*r)];
    queue.push_back(r);
  }
  for (uint32_t a : entry.arrived) {
    const Record& r = arrivals_[a].record;
    uint64_t& already = taken[IdentityOf(r)];
    if (already > 0) {
      --already;
      continue;
    }
    clean = false;  // arriving but not logged: it follows the logged order
    queue.push_back(&r);
  }
  size_t from = 0;
  if (!entry.queue.empty() && entry.queue.size() <= queue.size() &&
      std::equal(entry.queue.begin(), entry.queue.end(), queue.begin(), SameRecord)) {
    from = entry.queue.size();
    ++stats_.extended;
  } else {
    entry.state = KeyState{};
    ++stats_.refolded;
  }
  entry.queue = std::move(queue);
  entry.queue_arrivals.assign(entry.arrived.begin(), entry.arrived.end());
  entry.clean = clean;
  Process(entry, from);
}

void CutReference::Process(KeyEntry& entry, size_t from) {
  for (size_t i = from; i < entry.queue.size(); ++i) {
    reference_.ProcessKeyed(op_, *entry.queue[i], entry.state, scratch_);
    scratch_.clear();
    ++stats_.processed;
  }
}

std::vector<CutReference::KeyAt> CutReference::Keys() const {
  std::vector<KeyAt> out;
  for (size_t k = 0; k < entries_.size(); ++k) {
    const KeyEntry& entry = entries_[k];
    if (entry.queue.empty()) continue;
    if (entry.digest_stale) {
      const uint32_t max_parallelism = reference_.job().operators[op_].max_parallelism;
      entry.digest =
          DigestOf(GroupOfKey(key_names_[k], max_parallelism), key_names_[k], entry.state);
      entry.digest_stale = false;
    }
    out.push_back(KeyAt{&key_names_[k], &entry.state, &entry.digest});
  }
  return out;
}

const CutReference::KeyEntry* CutReference::Find(std::string_view key) const {
  auto it = key_ids_.find(std::string(key));
  return it == key_ids_.end() ? nullptr : &entries_[it->second];
}

std::vector<Record> CutReference::Processed(std::string_view key) const {
  std::vector<Record> out;
  if (const KeyEntry* entry = Find(key)) {
    for (const Record* r : entry->queue) out.push_back(*r);
  }
  return out;
}

std::vector<Record> CutReference::Logged(std::string_view key) const {
  std::vector<Record> out;
  if (const KeyEntry* entry = Find(key)) {
    for (const Record* r : entry->logged) out.push_back(*r);
  }
  return out;
}

}  // namespace faultline::checkers
