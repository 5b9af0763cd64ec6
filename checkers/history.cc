#include "checkers/history.h"

#include <algorithm>
#include <unordered_map>

namespace faultline::checkers {
namespace {

std::string TaskAttempt(uint32_t task, uint64_t attempt) {
  return "task " + std::to_string(task) + " attempt " + std::to_string(attempt);
}

// The newest attempt before `before` (all when unset) that logged a snapshot of `checkpoint`.
const AttemptLog* SnapshotTaker(const std::vector<const AttemptLog*>& attempts, uint64_t checkpoint,
                                std::optional<uint64_t> before) {
  for (auto it = attempts.rbegin(); it != attempts.rend(); ++it) {
    if (before && (*it)->attempt >= *before) continue;
    if ((*it)->SnapshotOf(checkpoint) != nullptr) return *it;
  }
  return nullptr;
}

Result<HistorySegment> LastSegment(const std::vector<const AttemptLog*>& attempts, uint32_t task,
                                   const HistoryEnd& end) {
  if (!end.checkpoint_id) {
    const AttemptLog* newest = nullptr;
    for (const AttemptLog* a : attempts) {
      if (!end.attempt || a->attempt <= *end.attempt) newest = a;
    }
    if (newest == nullptr) return HistorySegment{};  // the task had not run by then
    return HistorySegment{newest, newest->processed.size(), newest->emitted.size()};
  }
  const AttemptLog* taker = nullptr;
  if (end.attempt) {
    auto it = std::find_if(attempts.begin(), attempts.end(),
                           [&](const AttemptLog* a) { return a->attempt == *end.attempt; });
    if (it != attempts.end() && (*it)->SnapshotOf(*end.checkpoint_id)) taker = *it;
  } else {
    taker = SnapshotTaker(attempts, *end.checkpoint_id, std::nullopt);
  }
  if (taker == nullptr) {
    return FailedPreconditionError("task " + std::to_string(task) +
                                   " logged no snapshot of checkpoint " +
                                   std::to_string(*end.checkpoint_id));
  }
  const LoggedSnapshot* snapshot = taker->SnapshotOf(*end.checkpoint_id);
  return HistorySegment{taker, snapshot->processed, snapshot->emitted};
}

// Completes `history` (on entry newest segment first) back to a start from scratch, and
// returns it oldest segment first.
Result<std::vector<HistorySegment>> WalkBack(const std::vector<const AttemptLog*>& attempts,
                                             uint32_t task, std::vector<HistorySegment> history) {
  // Each step moves to an older attempt, so the walk ends within attempts.size() steps.
  for (size_t step = 0; step <= attempts.size(); ++step) {
    const AttemptLog& current = *history.back().log;
    if (!current.start_checkpoint) {
      return FailedPreconditionError(TaskAttempt(task, current.attempt) + " has no start");
    }
    if (*current.start_checkpoint == 0) {
      std::reverse(history.begin(), history.end());
      return history;
    }
    const AttemptLog* taker = SnapshotTaker(attempts, *current.start_checkpoint, current.attempt);
    if (taker == nullptr) {
      return FailedPreconditionError(TaskAttempt(task, current.attempt) + " restored checkpoint " +
                                     std::to_string(*current.start_checkpoint) +
                                     ", which no earlier attempt snapshotted");
    }
    const LoggedSnapshot* snapshot = taker->SnapshotOf(*current.start_checkpoint);
    history.push_back(HistorySegment{taker, snapshot->processed, snapshot->emitted});
  }
  return FailedPreconditionError("the history of task " + std::to_string(task) +
                                 " does not reach a start from scratch");
}

}  // namespace

Result<std::vector<HistorySegment>> CommittedHistory(const OrderLog& log, uint32_t task,
                                                     const HistoryEnd& end) {
  if (log.overflowed()) return FailedPreconditionError("the order log overflowed");
  const std::vector<const AttemptLog*> attempts = log.AttemptsOf(task);
  if (attempts.empty()) return std::vector<HistorySegment>{};
  FL_ASSIGN_OR_RETURN(HistorySegment segment, LastSegment(attempts, task, end));
  if (segment.log == nullptr) return std::vector<HistorySegment>{};
  return WalkBack(attempts, task, {segment});
}

Result<std::vector<HistorySegment>> HistoryBefore(const OrderLog& log, const AttemptLog& attempt) {
  if (log.overflowed()) return FailedPreconditionError("the order log overflowed");
  FL_ASSIGN_OR_RETURN(
      std::vector<HistorySegment> history,
      WalkBack(log.AttemptsOf(attempt.task), attempt.task, {HistorySegment{&attempt, 0, 0}}));
  history.pop_back();  // the attempt itself
  return history;
}

KeyedOrders OrdersOf(const engine::JobSetup& setup, const OrderLog& log,
                     const std::function<HistoryEnd(uint32_t task)>& end_for, bool per_key) {
  KeyedOrders out;
  std::map<uint32_t, std::unordered_map<std::string_view, std::vector<engine::Record>*>> lists_of;
  for (uint32_t c = 0; c < setup.plan.chains.size(); ++c) {
    const uint32_t op = setup.plan.chains[c].first_operator;
    const bool keyed = setup.job.operators[op].kind == engine::OperatorKind::kKeyedProcess;
    for (uint32_t task : setup.plan.tasks_of_chain[c]) {
      Result<std::vector<HistorySegment>> history = CommittedHistory(log, task, end_for(task));
      if (!history.ok()) {
        out.problems.push_back(std::string(history.status().message()));
        continue;
      }
      if (keyed && per_key) {
        KeyOrder& order = out.order[op];
        // Each key's list found by a hash of the key (the map's nodes stay where they are).
        std::unordered_map<std::string_view, std::vector<engine::Record>*>& lists = lists_of[op];
        for (const HistorySegment& segment : *history) {
          for (size_t i = 0; i < segment.processed_end; ++i) {
            const engine::Record& r = segment.log->processed[i].record;
            auto [slot, added] = lists.try_emplace(r.key, nullptr);  // views the log's key
            if (added) slot->second = &order[r.key];
            slot->second->push_back(r);
          }
        }
      }
      out.histories[task] = std::move(*history);
    }
  }
  return out;
}

}  // namespace faultline::checkers
