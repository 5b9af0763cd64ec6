// Committed histories (ORACLES.md, "Order"): what a task processed on the way to a given state,
// across attempts. The newest attempt started from checkpoint c; c's state is what an earlier
// attempt had processed up to its snapshot for c; that attempt started from an earlier
// checkpoint, and so on back to a start from scratch. Records an attempt processed after the
// snapshot the next attempt restored were undone by the restore and are not in the history.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "checkers/order_log.h"
#include "checkers/reference.h"
#include "engine/exec/cluster.h"

namespace faultline::checkers {

// One attempt's part of a history: its processed records [0, processed_end) and emitted ids
// [0, emitted_end).
struct HistorySegment {
  const AttemptLog* log = nullptr;
  size_t processed_end = 0;
  size_t emitted_end = 0;
};

// Where a history ends.
struct HistoryEnd {
  // Unset: at the end of the task's newest attempt (a finished job's committed history), or of
  // its newest attempt up to `attempt` when that is set.
  std::optional<uint64_t> checkpoint_id;
  // With checkpoint_id: the attempt whose snapshot the checkpoint holds; unset: the newest
  // attempt that logged a snapshot of it.
  std::optional<uint64_t> attempt;
};

// The task's history, oldest segment first; empty when the task never reported. Fails with
// FailedPrecondition when the log cannot tell (an attempt restored a checkpoint no earlier
// attempt of the task logged a snapshot of, or the log overflowed).
Result<std::vector<HistorySegment>> CommittedHistory(const OrderLog& log, uint32_t task,
                                                     const HistoryEnd& end);

// The history whose end state `attempt` restored, oldest segment first (empty when it started
// from scratch). Fails as CommittedHistory does.
Result<std::vector<HistorySegment>> HistoryBefore(const OrderLog& log, const AttemptLog& attempt);

// The number of task indices any of the job's plan generations uses: each generation numbers its
// tasks from 0, so an order log's task index means a task of its attempt's generation.
uint32_t TaskIndexBound(const engine::JobSetup& setup);

// The plan generation `attempt` ran, from a run's rescaled attempts (RunView::rescaled_attempts;
// an attempt not there ran generation 0's plan).
uint32_t GenerationOfAttempt(const std::map<uint64_t, uint32_t>& rescaled, uint64_t attempt);

struct KeyedOrders {
  std::map<uint32_t, KeyOrder> order;  // keyed operator index -> per-key logged order
  std::map<uint32_t, std::vector<HistorySegment>> histories;  // every task -> its history
  std::vector<std::string> problems;  // tasks whose history the log could not give
};

// The history of every task ending at end_for(task), and from them (unless `per_key` is false:
// then `order` stays empty) the per-key order of every keyed operator (the first operator of its
// chain: a key_by always starts a chain).
//
// A rescaled run (`rescaled`: attempts deployed at another plan generation, by attempt; null or
// empty: none) has no per-task history: a subtask's key groups came from other subtasks at the
// old parallelism. Then only `order` is filled, per key group, walking back from the owner of the
// group at the end through the owner at each restored checkpoint's generation; `histories`
// stays empty (what needs them, the interleaving check, cannot judge such a run), and end_for
// is asked for task 0 only (every end is the same).
KeyedOrders OrdersOf(const engine::JobSetup& setup, const OrderLog& log,
                     const std::function<HistoryEnd(uint32_t task)>& end_for, bool per_key = true,
                     const std::map<uint64_t, uint32_t>* rescaled = nullptr);

}  // namespace faultline::checkers
