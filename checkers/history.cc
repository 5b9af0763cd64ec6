#include "checkers/history.h"

#include <algorithm>
#include <unordered_map>

#include "checkers/key_groups.h"

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

uint32_t TaskIndexBound(const engine::JobSetup& setup) {
  size_t bound = 0;
  for (uint32_t g = 0; g < setup.generations(); ++g) {
    bound = std::max(bound, setup.PlanOf(g).tasks.size());
  }
  return static_cast<uint32_t>(bound);
}

uint32_t GenerationOfAttempt(const std::map<uint64_t, uint32_t>& rescaled, uint64_t attempt) {
  auto it = rescaled.find(attempt);
  return it == rescaled.end() ? 0 : it->second;
}

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

namespace {

// OrdersOf for a rescaled run: per key group, the segments of the group's owners, oldest first.
class RescaledOrders {
 public:
  RescaledOrders(const engine::JobSetup& setup, const OrderLog& log,
                 const std::map<uint64_t, uint32_t>& rescaled)
      : setup_(setup), log_(log), rescaled_(rescaled) {}

  KeyedOrders Run(const HistoryEnd& end) {
    KeyedOrders out;
    if (log_.overflowed()) {
      out.problems.push_back("the order log overflowed");
      return out;
    }
    for (const auto& [attempt, generation] : rescaled_) {
      if (generation >= setup_.generations()) {
        out.problems.push_back("attempt " + std::to_string(attempt) + " ran plan generation " +
                               std::to_string(generation) + ", which the job does not have");
        return out;
      }
    }
    for (uint32_t c = 0; c < setup_.plan.chains.size(); ++c) {
      const uint32_t op = setup_.plan.chains[c].first_operator;
      if (setup_.job.operators[op].kind != engine::OperatorKind::kKeyedProcess) continue;
      Chain(c, op, end, out);
    }
    return out;
  }

 private:
  using Path = std::vector<HistorySegment>;

  uint32_t GenerationOf(uint64_t attempt) const { return GenerationOfAttempt(rescaled_, attempt); }
  // The task owning `group` of chain `c` at generation `g`.
  uint32_t Owner(uint32_t c, uint32_t g, uint32_t group) const {
    const engine::ExecutionPlan& plan = setup_.PlanOf(g);
    const uint32_t op = plan.chains[c].first_operator;
    const engine::OperatorSpec& spec = setup_.JobOf(g).operators[op];
    return plan.tasks_of_chain[c][SubtaskOfGroup(group, spec.parallelism, spec.max_parallelism)];
  }
  // The attempts of task index `task` that ran generation `g`, oldest first.
  std::vector<const AttemptLog*> AttemptsAt(uint32_t task, uint32_t g) const {
    std::vector<const AttemptLog*> out;
    for (const AttemptLog* a : log_.AttemptsOf(task)) {
      if (GenerationOf(a->attempt) == g) out.push_back(a);
    }
    return out;
  }
  // The generation the history ends in: the newest attempt's (up to end.attempt), or the
  // newest attempt's that logged a snapshot of end.checkpoint_id in chain `c`.
  std::optional<uint32_t> EndGeneration(uint32_t c, const HistoryEnd& end) const {
    std::optional<uint64_t> newest;
    for (uint32_t g = 0; g < setup_.generations(); ++g) {
      for (uint32_t task : setup_.PlanOf(g).tasks_of_chain[c]) {
        for (const AttemptLog* a : AttemptsAt(task, g)) {
          if (end.attempt && a->attempt > *end.attempt) continue;
          if (end.checkpoint_id && a->SnapshotOf(*end.checkpoint_id) == nullptr) continue;
          if (end.checkpoint_id && end.attempt && a->attempt != *end.attempt) continue;
          if (!newest || a->attempt > *newest) newest = a->attempt;
        }
      }
    }
    if (!newest) return std::nullopt;
    return GenerationOf(*newest);
  }
  // The segments of `group`'s history, oldest first.
  Result<Path> PathOf(uint32_t c, uint32_t group, uint32_t end_generation,
                      const HistoryEnd& end) const {
    const uint32_t last_owner = Owner(c, end_generation, group);
    FL_ASSIGN_OR_RETURN(HistorySegment last,
                        LastSegment(AttemptsAt(last_owner, end_generation), last_owner, end));
    if (last.log == nullptr) return Path{};
    Path path{last};
    for (size_t step = 0; step <= log_.attempts(); ++step) {
      const AttemptLog& current = *path.back().log;
      if (!current.start_checkpoint) {
        return FailedPreconditionError(TaskAttempt(current.task, current.attempt) +
                                       " has no start");
      }
      const uint64_t checkpoint = *current.start_checkpoint;
      if (checkpoint == 0) {
        std::reverse(path.begin(), path.end());
        return path;
      }
      // The attempt that took the restored checkpoint, at whichever generation it ran: the
      // newest earlier attempt of the group's owner there that logged a snapshot of it.
      const AttemptLog* taker = nullptr;
      for (uint32_t g = 0; g < setup_.generations(); ++g) {
        for (const AttemptLog* a : AttemptsAt(Owner(c, g, group), g)) {
          if (a->attempt >= current.attempt || a->SnapshotOf(checkpoint) == nullptr) continue;
          if (taker == nullptr || a->attempt > taker->attempt) taker = a;
        }
      }
      if (taker == nullptr) {
        return FailedPreconditionError(TaskAttempt(current.task, current.attempt) +
                                       " restored checkpoint " + std::to_string(checkpoint) +
                                       ", which no earlier owner of key group " +
                                       std::to_string(group) + " snapshotted");
      }
      const LoggedSnapshot* snapshot = taker->SnapshotOf(checkpoint);
      path.push_back(HistorySegment{taker, snapshot->processed, snapshot->emitted});
    }
    return FailedPreconditionError("the history of key group " + std::to_string(group) +
                                   " does not reach a start from scratch");
  }

  void Chain(uint32_t c, uint32_t op, const HistoryEnd& end, KeyedOrders& out) const {
    const uint32_t max_parallelism = setup_.job.operators[op].max_parallelism;
    const std::optional<uint32_t> end_generation = EndGeneration(c, end);
    if (!end_generation) return;  // the chain had not run by then
    // Groups with the same owners' segments share one scan.
    std::map<std::vector<std::pair<const AttemptLog*, size_t>>, std::pair<Path, std::vector<bool>>>
        paths;
    for (uint32_t group = 0; group < max_parallelism; ++group) {
      Result<Path> path = PathOf(c, group, *end_generation, end);
      if (!path.ok()) {
        out.problems.push_back(std::string(path.status().message()));
        continue;
      }
      std::vector<std::pair<const AttemptLog*, size_t>> id;
      for (const HistorySegment& s : *path) id.emplace_back(s.log, s.processed_end);
      auto& entry = paths[id];
      if (entry.second.empty()) {
        entry.first = std::move(*path);
        entry.second.assign(max_parallelism, false);
      }
      entry.second[group] = true;
    }
    KeyOrder& order = out.order[op];
    for (const auto& [id, entry] : paths) {
      const auto& [path, groups] = entry;
      for (const HistorySegment& segment : path) {
        for (size_t i = 0; i < segment.processed_end; ++i) {
          const engine::Record& r = segment.log->processed[i].record;
          if (groups[GroupOfKey(r.key, max_parallelism)]) order[r.key].push_back(r);
        }
      }
    }
  }

  const engine::JobSetup& setup_;
  const OrderLog& log_;
  const std::map<uint64_t, uint32_t>& rescaled_;
};

}  // namespace

KeyedOrders OrdersOf(const engine::JobSetup& setup, const OrderLog& log,
                     const std::function<HistoryEnd(uint32_t task)>& end_for, bool per_key,
                     const std::map<uint64_t, uint32_t>* rescaled) {
  if (rescaled != nullptr && !rescaled->empty()) {
    if (!per_key) return KeyedOrders{};
    return RescaledOrders(setup, log, *rescaled).Run(end_for(0));
  }
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
