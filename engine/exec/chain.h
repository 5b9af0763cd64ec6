// Runs records through the operators of one task's chain: map, filter, flat_map, keyed
// process functions (with keyed state in the task's backend) and sinks, handing what leaves the
// chain to the task's output router.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/api/job.h"
#include "engine/exec/config.h"
#include "engine/exec/plan.h"
#include "engine/runtime/runtime.h"
#include "engine/state/state_backend.h"

namespace faultline::engine {

// The hidden per-key provenance state every keyed operator keeps (ORACLES.md): the count and
// hash-sum of the source records that contributed to the key's state, as two little-endian
// u64 in one value.
inline constexpr std::string_view kProvenanceState = "__provenance";

// Writes a sink operator's records to the output store, in two lanes, as Flink's sink writer
// and committer. The write lane (fence, writes, appends, pre-commits, upserts) issues one
// operation at a time, in order, so a pre-commit never overtakes the writes before it. The
// commit lane (commits, recovery commits) issues one at a time too, each once the write lane
// has done what it depends on (the fence, its own transaction's pre-commit), never behind the
// writes of later transactions: a commit is not held back by the output that follows it.
class SinkWriter {
 public:
  // The most bytes of records one write or append call carries when queued batches are joined
  // (Kafka's max.request.size, 1 MiB); a single flush may carry more.
  static constexpr uint64_t kMaxWriteBytes = uint64_t{1} << 20;

  SinkWriter(const OperatorSpec& op, uint32_t subtask, uint64_t attempt,
             runtime::ProcessContext& context, const TeachingSwitches& switches,
             std::function<void(const Status&)> on_error);
  ~SinkWriter();

  void Add(const Record& record);
  // Sends what was added since the last flush (one store call: a batch of records, or of
  // upserts).
  void Flush();
  // Two-phase commit: closes the current transaction for checkpoint `id`, then calls `done`
  // once the store has pre-committed it. Other kinds: flushes and calls `done` when written.
  void PreCommit(uint64_t checkpoint_id, std::function<void()> done);
  // Commits every pending transaction of a checkpoint <= id (each one once; it leaves the
  // pending list when its commit succeeded).
  void CommitUpTo(uint64_t checkpoint_id);
  // Calls `done` once every operation issued so far, in both lanes, succeeded (never, if one
  // fails: the error callback is called instead).
  void AfterQueued(std::function<void()> done);
  // Transactions pre-committed and not yet committed: (checkpoint, txn). One stays here while
  // its commit waits in the queue, so a snapshot taken meanwhile still holds it.
  const std::map<uint64_t, std::string>& pending() const { return pending_; }
  void RestorePending(std::map<uint64_t, std::string> pending);
  // After a rescale (engine/exec/rescale.h): this subtask takes over the writers of sink
  // subtasks `writers` (that no longer exist, or belong to it now). Fences each of them, as the
  // writer's own first attempt would, so a zombie of the old parallelism can no longer write.
  void AdoptWriters(const std::vector<uint32_t>& writers);
  // Restored transactions of an adopted writer: recovered (RecoverUpTo) as that writer.
  void RestoreAdopted(const std::vector<std::pair<uint64_t, std::string>>& pending);
  // After a restore from checkpoint `id`: every restored transaction of a checkpoint <= id
  // belongs to a completed checkpoint but may or may not have been committed before the
  // failure. Asks the store and commits only those still pre-committed (the store does not
  // deduplicate commits).
  void RecoverUpTo(uint64_t checkpoint_id);
  std::string writer() const;

 private:
  enum class OpKind : uint8_t;
  struct Op;
  struct Lane {
    std::deque<std::unique_ptr<Op>> ops;
    bool running = false;
  };
  // The write-lane operation of `kind` and transaction `txn` queued last and not yet issued, if
  // `bytes` more of records fit in it (nullptr: none).
  Op* WaitingBatch(OpKind kind, const std::string& txn, uint64_t bytes);
  void Enqueue(std::unique_ptr<Op> op);
  void EnqueueCommit(std::unique_ptr<Op> op);
  void QueueCommitOf(uint64_t checkpoint, const std::string& txn);
  void RunNext(Lane& lane);
  void Issue(Lane& lane, Op& op);
  void FinishOp(Lane& lane, Status status);
  std::string CurrentTxn() const;
  std::string WriterName(uint32_t subtask) const;

  const OperatorSpec& op_;
  uint32_t subtask_;
  uint64_t attempt_;
  runtime::ProcessContext& ctx_;
  const TeachingSwitches& switches_;
  std::function<void(const Status&)> on_error_;
  runtime::RecordBatch batch_;
  std::vector<runtime::UpsertEntry> upserts_;  // upsert sinks: added since the last flush
  Lane writes_;
  Lane commits_;
  uint64_t writes_queued_ = 0;               // write-lane operations enqueued so far
  uint64_t writes_done_ = 0;                 // of which succeeded
  uint64_t fence_write_ = 0;                 // the fence's position in the write lane (0: no fence)
  bool failed_ = false;                      // an operation failed: nothing more is issued
  uint64_t txn_sequence_ = 0;                // transactions opened by this attempt
  std::map<uint64_t, std::string> pending_;  // until their commit succeeded
  // The write-lane position of each pending transaction's pre-commit, by checkpoint.
  std::map<uint64_t, uint64_t> pre_commit_write_;
  uint64_t commit_queued_up_to_ = 0;  // pending ones of checkpoints <= it are queued
  // Restored transactions of adopted writers (checkpoint, txn): all belong to the restored
  // checkpoint or earlier, so recovery commits them all before the task runs.
  std::vector<std::pair<uint64_t, std::string>> adopted_;
  std::shared_ptr<bool> alive_;
};

class ChainRunner {
 public:
  // `emit` receives records leaving the chain (none for a chain ending in a sink).
  ChainRunner(const JobGraph& job, const ChainSpec& chain, uint32_t subtask, uint64_t attempt,
              KeyedStateBackend* backend, runtime::ProcessContext& context,
              const TeachingSwitches& switches, std::function<void(const Record&)> emit,
              std::function<void(const Status&)> on_error);
  ~ChainRunner();

  // Runs `record` through the chain from operator `from` (the first operator, or the one
  // after the source for a source task).
  void Process(const Record& record);
  // End of a batch of input: sinks flush.
  void Flush();
  SinkWriter* sink() { return sink_.get(); }

 private:
  class Keyed;
  void RunFrom(size_t stage, const Record& record);

  std::vector<const OperatorSpec*> stages_;
  std::function<void(const Record&)> emit_;
  std::unique_ptr<Keyed> keyed_;
  std::unique_ptr<SinkWriter> sink_;
};

}  // namespace faultline::engine
