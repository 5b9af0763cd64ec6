#include "checkers/cut_reference.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <tuple>
#include <utility>

#include "base/assert.h"

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

}  // namespace

CutReference::CutReference(const engine::JobSetup& setup, const std::vector<SourceRecord>& sources,
                           uint32_t op)
    : setup_(setup), reference_(setup.job), op_(op) {
  FL_ASSERT(op > 0 && op < setup.job.operators.size() &&
            setup.job.operators[op].kind == engine::OperatorKind::kKeyedProcess);
  for (uint32_t i = 1; i < op; ++i) {
    FL_ASSERT(setup.job.operators[i].kind != engine::OperatorKind::kKeyedProcess,
              "only stateless operators before the keyed one");
  }
  first_arrival_.reserve(sources.size() + 1);
  for (const SourceRecord& s : sources) {
    first_arrival_.push_back(static_cast<uint32_t>(arrivals_.size()));
    for (Record& r : reference_.Arriving(op, s.record)) {
      const uint32_t key = Intern(r.key);
      arrivals_.push_back(Arrival{key, std::move(r)});
    }
  }
  first_arrival_.push_back(static_cast<uint32_t>(arrivals_.size()));
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

void CutReference::Gather(const std::vector<bool>& included, const KeyedOrders* orders) {
  FL_ASSERT(included.size() + 1 == first_arrival_.size());
  for (KeyEntry& entry : entries_) {
    entry.logged.clear();
    entry.arrived.clear();
  }
  for (size_t i = 0; i < included.size(); ++i) {
    if (!included[i]) continue;
    for (uint32_t a = first_arrival_[i]; a < first_arrival_[i + 1]; ++a) {
      entries_[arrivals_[a].key].arrived.push_back(a);
    }
  }
  if (orders == nullptr) return;
  // As OrdersOf: the operator's chain's tasks in order, each history oldest segment first.
  for (uint32_t c = 0; c < setup_.plan.chains.size(); ++c) {
    if (setup_.plan.chains[c].first_operator != op_) continue;
    for (uint32_t task : setup_.plan.tasks_of_chain[c]) {
      auto history = orders->histories.find(task);
      if (history == orders->histories.end()) continue;
      for (const HistorySegment& segment : history->second) {
        const std::vector<uint32_t>& keys = KeysOf(*segment.log);
        for (size_t i = 0; i < segment.processed_end; ++i) {
          entries_[keys[i]].logged.push_back(&segment.log->processed[i].record);
        }
      }
    }
  }
}

void CutReference::Advance(const std::vector<bool>& included, const KeyedOrders* orders) {
  Gather(included, orders);
  for (KeyEntry& entry : entries_) {
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
}

// The usual case, without building the queue: the state reflects a clean queue (the logged order,
// matching its arrivals as a multiset), this cut's logged order extends it, its arrivals include
// those (arrival indices are in stream order, so both lists are sorted), and the new logged
// records match the new arrivals as a multiset: the queue is this cut's logged order.
bool CutReference::Extend(KeyEntry& entry) {
  const size_t logged = entry.queue.size();
  if (!entry.clean || entry.logged.size() < logged) return false;
  if (!std::equal(entry.queue.begin(), entry.queue.end(), entry.logged.begin(), SameRecord)) {
    return false;
  }
  if (!std::includes(entry.arrived.begin(), entry.arrived.end(), entry.queue_arrivals.begin(),
                     entry.queue_arrivals.end())) {
    return false;
  }
  std::vector<Identity>& new_logged = new_logged_;
  std::vector<Identity>& new_arrived = new_arrived_;
  new_logged.clear();
  new_arrived.clear();
  for (size_t i = logged; i < entry.logged.size(); ++i) {
    new_logged.push_back(IdentityOf(*entry.logged[i]));
  }
  auto old_arrival = entry.queue_arrivals.begin();
  for (uint32_t a : entry.arrived) {
    if (old_arrival != entry.queue_arrivals.end() && *old_arrival == a) {
      ++old_arrival;
    } else {
      new_arrived.push_back(IdentityOf(arrivals_[a].record));
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
    if (!entries_[k].queue.empty()) out.push_back(KeyAt{&key_names_[k], &entries_[k].state});
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
