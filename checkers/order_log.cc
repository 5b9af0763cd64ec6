#include "checkers/order_log.h"

namespace faultline::checkers {

const LoggedSnapshot* AttemptLog::SnapshotOf(uint64_t checkpoint_id) const {
  for (const LoggedSnapshot& s : snapshots) {
    if (s.checkpoint_id == checkpoint_id) return &s;
  }
  return nullptr;
}

AttemptLog& OrderLog::Log(uint32_t task, uint64_t attempt) {
  auto [it, inserted] = logs_.try_emplace({task, attempt});
  if (inserted) {
    it->second.task = task;
    it->second.attempt = attempt;
  }
  return it->second;
}

bool OrderLog::Admit() {
  if (records_ >= options_.records_max) {
    overflowed_ = true;
    return false;
  }
  ++records_;
  return true;
}

std::optional<Time> OrderLog::Now() const {
  if (!options_.now) return std::nullopt;
  return options_.now();
}

void OrderLog::OnSourceEmit(uint32_t task, uint64_t attempt, const engine::RecordId& id) {
  if (!Admit()) return;
  AttemptLog& log = Log(task, attempt);
  log.emitted.push_back(id);
  if (options_.now) log.emitted_at.push_back(options_.now());
}

void OrderLog::OnProcess(uint32_t task, uint64_t attempt, uint32_t input,
                         const engine::Record& record) {
  if (Admit()) Log(task, attempt).processed.push_back(LoggedRecord{input, record});
}

void OrderLog::OnSnapshot(uint32_t task, uint64_t attempt, uint64_t checkpoint_id) {
  AttemptLog& log = Log(task, attempt);
  log.snapshots.push_back(
      LoggedSnapshot{checkpoint_id, log.processed.size(), log.emitted.size(), Now()});
}

void OrderLog::OnStart(uint32_t task, uint64_t attempt, uint64_t checkpoint_id) {
  AttemptLog& log = Log(task, attempt);
  if (log.start_checkpoint.has_value()) {
    // Not expected (attempt numbers are unique per deployment); keep the newer run.
    restarted_within_attempt_ = true;
    log = AttemptLog{task, attempt, {}, {}, {}, {}, {}, {}};
  }
  log.start_checkpoint = checkpoint_id;
  log.start_time = Now();
}

const AttemptLog* OrderLog::Find(uint32_t task, uint64_t attempt) const {
  auto it = logs_.find({task, attempt});
  return it == logs_.end() ? nullptr : &it->second;
}

std::vector<const AttemptLog*> OrderLog::AttemptsOf(uint32_t task) const {
  std::vector<const AttemptLog*> out;
  for (auto it = logs_.lower_bound({task, 0}); it != logs_.end() && it->first.first == task; ++it) {
    out.push_back(&it->second);
  }
  return out;
}

}  // namespace faultline::checkers
