#include "engine/exec/rescale.h"

#include <string>

#include "engine/state/key_groups.h"

namespace faultline::engine {
namespace {

// The keyed operator of a chain (a chain holds at most one), or null.
const OperatorSpec* KeyedOperatorOf(const JobGraph& job, const ChainSpec& chain) {
  for (uint32_t i = chain.first_operator; i <= chain.last_operator; ++i) {
    if (job.operators[i].kind == OperatorKind::kKeyedProcess) return &job.operators[i];
  }
  return nullptr;
}

}  // namespace

Result<std::map<uint32_t, TaskSnapshot>> RedistributeState(
    const JobSetup& setup, uint32_t from, uint32_t to,
    const std::map<uint32_t, TaskSnapshot>& state) {
  if (from == to) return state;
  if (from >= setup.generations() || to >= setup.generations()) {
    return InvalidArgumentError("no plan generation " + std::to_string(std::max(from, to)));
  }
  const JobGraph& old_job = setup.JobOf(from);
  const JobGraph& new_job = setup.JobOf(to);
  const ExecutionPlan& old_plan = setup.PlanOf(from);
  const ExecutionPlan& new_plan = setup.PlanOf(to);
  std::map<uint32_t, TaskSnapshot> out;
  for (const TaskSpec& task : new_plan.tasks) out[task.index].task = task.index;
  for (uint32_t c = 0; c < new_plan.chains.size(); ++c) {
    const OperatorSpec* old_keyed = KeyedOperatorOf(old_job, old_plan.chains[c]);
    const OperatorSpec* new_keyed = KeyedOperatorOf(new_job, new_plan.chains[c]);
    const uint32_t new_parallelism = new_plan.chains[c].parallelism;
    for (uint32_t old_task : old_plan.tasks_of_chain[c]) {
      auto it = state.find(old_task);
      if (it == state.end()) continue;
      const TaskSnapshot& snapshot = it->second;
      const uint32_t old_subtask = old_plan.tasks[old_task].subtask;
      const KeyGroupRange old_groups =
          old_keyed != nullptr ? KeyGroupRangeForOperator(old_subtask, old_keyed->parallelism,
                                                          old_keyed->max_parallelism)
                               : KeyGroupRange{};
      for (const BlobHandle& handle : snapshot.handles) {
        if (handle.kind == HandleKind::kInputChannel || handle.kind == HandleKind::kOutputChannel) {
          return FailedPreconditionError("checkpoint " + std::to_string(snapshot.checkpoint_id) +
                                         " holds channel state (" + handle.blob +
                                         "), which cannot be restored at other parallelisms");
        }
        std::vector<uint32_t> receivers;
        if (handle.kind == HandleKind::kKeyed || IsShared(handle.kind)) {
          if (new_keyed == nullptr) {
            return FailedPreconditionError("keyed state " + handle.blob +
                                           " for a chain without a keyed operator");
          }
          for (uint32_t s = 0; s < new_parallelism; ++s) {
            const KeyGroupRange groups =
                KeyGroupRangeForOperator(s, new_keyed->parallelism, new_keyed->max_parallelism);
            if (!groups.Intersect(old_groups).empty()) {
              receivers.push_back(new_plan.tasks_of_chain[c][s]);
            }
          }
        } else if (handle.blob.ends_with("/source")) {
          receivers = new_plan.tasks_of_chain[c];  // union state
        } else if (handle.blob.ends_with("/sink")) {
          receivers.push_back(new_plan.tasks_of_chain[c][SinkHeir(old_subtask, new_parallelism)]);
        } else {
          return FailedPreconditionError("operator state " + handle.blob +
                                         " has no redistribution rule");
        }
        for (uint32_t receiver : receivers) {
          TaskSnapshot& target = out[receiver];
          target.checkpoint_id = snapshot.checkpoint_id;
          target.handles.push_back(handle);
        }
      }
    }
  }
  return out;
}

}  // namespace faultline::engine
