// A task: one parallel subtask of a chain of operators. It owns its input channels' queues
// (Flink's input gate) and its output channels' queues (result partition), processes records
// through the chain, hands checkpoint barriers to its barrier handler (engine/checkpoint/, one per
// mode), snapshots its state and sends its acknowledgement, all through the runtime interfaces of
// its TaskManager process.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/api/job.h"
#include "engine/checkpoint/barrier_handler.h"
#include "engine/checkpoint/restore_guard.h"
#include "engine/checkpoint/snapshot_lifecycle.h"
#include "engine/exec/buffer_queue.h"
#include "engine/exec/config.h"
#include "engine/exec/plan.h"
#include "engine/exec/snapshot.h"
#include "engine/exec/wire.h"
#include "engine/runtime/runtime.h"
#include "engine/state/state_backend.h"

namespace faultline::engine {

// What a task tells its TaskManager (which forwards it to the JobManager).
class TaskHost {
 public:
  virtual ~TaskHost() = default;
  virtual void SendToJobManager(ControlMessage message) = 0;
};

struct TaskSetup {
  const JobGraph* job = nullptr;
  const ExecutionPlan* plan = nullptr;
  const EngineConfig* config = nullptr;
  // The plan generation's keyed state backend (JobSetup::StateBackendOf); null: the config's.
  const StateBackendFactory* state_backend = nullptr;
  uint32_t task = 0;
  uint64_t attempt = 0;
  runtime::ProcessContext context;
  TaskHost* host = nullptr;
  // The state to restore (from the latest completed checkpoint), if any.
  std::optional<TaskSnapshot> restore;
  // The most subtasks the job's sink has in any plan generation: after a rescale down, a sink
  // subtask takes over the writers beyond its parallelism (engine/exec/rescale.h).
  uint32_t sink_writers = 0;
};

class ChainRunner;
class OutputRouter;

class Task final : public runtime::ChannelListener, private CheckpointableTask {
 public:
  explicit Task(TaskSetup setup);
  ~Task() override;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  // Starts listening, connecting and (for sources) reading.
  void Start();
  // Control messages from the JobManager.
  void TriggerCheckpoint(const BarrierInfo& barrier);
  // `final`: a final checkpoint (after end of input). The task commits, and once its sink's
  // commits are done it finishes: reports kTaskFinished (FLIP-147).
  // `stop`: the stop-with-savepoint completed: the task commits and finishes as after a final
  // checkpoint, whether or not its input ended.
  void NotifyCheckpointComplete(uint64_t checkpoint_id, bool final, bool stop = false);
  void NotifyCheckpointAborted(uint64_t checkpoint_id);

  // Fails the task from outside (a fault library's "fail a task"): reported to the JobManager
  // as the task's own failure would be.
  void InjectFailure(const Status& why) { Fail(why); }

  uint32_t index() const { return setup_.task; }
  uint64_t attempt() const { return setup_.attempt; }
  bool ended() const { return end_of_input_reported_; }

  // ChannelListener.
  void OnAccepted(runtime::ChannelId channel, runtime::Endpoint from) override;
  void OnReceive(runtime::ChannelId channel, runtime::Buffer& buffer) override;
  void OnWritable(runtime::ChannelId channel) override;
  void OnChannelFailed(runtime::ChannelId channel, const Status& why) override;

 private:
  struct InputChannel {
    uint32_t producer_task = 0;
    runtime::ChannelId channel = runtime::kNoChannel;
    BufferQueue queue;     // received, not yet processed (<= credits)
    bool blocked = false;  // aligned: delivered the barrier being aligned
    bool ended = false;
  };
  struct OutputChannel {
    uint32_t consumer_task = 0;
    runtime::ChannelId channel = runtime::kNoChannel;
    bool writable = false;
    BufferQueue queue;  // sealed, waiting for credit
    // Records being filled: its first `open_bytes` bytes are in use, the rest of its size is
    // room zero-filled ahead, so appending a record is a plain copy.
    Buffer open;
    size_t open_bytes = 0;
    uint32_t open_records = 0;
    Time opened_at;                      // when the first record went into `open`
    bool event_retry_scheduled = false;  // a queued unaligned barrier waits to go as an event
  };

  void Fail(const Status& why);
  void Begin();
  void Restore();
  // Once every blob is applied: a restored sink commits its recovered transactions (after its
  // fence), then the restore finishes.
  void RecoverSink();
  void FinishRestore();
  // Restores keyed state from its handles (indices into the restore's handles, with their
  // bytes) in one backend restore; an incremental handle finds its files in `shared`.
  Status RestoreKeyed(const std::vector<std::pair<size_t, Bytes>>& keyed,
                      const std::map<std::string, Bytes>& shared);
  Status ApplyRestoredBlob(const BlobHandle& handle, const Bytes& data);
  void ConnectOutput(size_t index);
  void Step();
  bool Backpressured() const;
  void ProcessBuffer(size_t input, Buffer buffer);
  void HandleEndOfData(size_t input);
  // Aligned-checkpoint timeout: whether checkpoint `barrier` is past it (a source emits it
  // unaligned then).
  bool AlignmentTimedOut(const BarrierInfo& barrier) const;

  // CheckpointableTask: what the barrier handler asks of this task.
  size_t InputCount() const override { return inputs_.size(); }
  bool InputEnded(size_t input) const override { return inputs_[input].ended; }
  void BlockInput(size_t input) override { inputs_[input].blocked = true; }
  void UnblockInputs() override;
  void ReturnCredit(size_t input) override;
  void ScheduleStep() override;
  ChannelBuffers CollectInFlight(uint64_t checkpoint, std::vector<bool>& received) override;
  uint64_t LastCheckpoint() const override { return last_checkpoint_; }
  bool TakeSnapshot(const BarrierInfo& barrier, Duration alignment) override;
  void PersistChannelState(uint64_t checkpoint, ChannelBuffers in_flight,
                           Duration alignment) override;
  void AbandonChannelState(uint64_t checkpoint) override;
  void Decline(uint64_t checkpoint, DeclineReason reason) override;
  Time Now() const override { return ctx_.clock->Now(); }
  void ScheduleTimeout(Duration delay, uint64_t checkpoint) override;
  void RecordEvent(const runtime::EngineEvent& event) override { ctx_.events->Record(event); }
  std::string_view Name() const override { return spec_.name; }

  // Sources.
  void ReadSource();
  void EmitSourceRecords();

  // Output.
  // Appends `record` with `key` in place of its own (a key_by's key) to an output's buffer.
  void Emit(size_t output, std::string_view key, const Record& record);
  void Seal(size_t output);
  void FlushAll();
  void FlushDue();
  void ScheduleFlushTimer();
  void EmitToAll(const Buffer& buffer);
  // Sends what output `output` has queued while the channel allows: buffers on credit, an
  // unaligned barrier as an event.
  void Pump(size_t output);
  static bool IsUnalignedBarrier(const Buffer& buffer);
  // The channel's bound on events in flight held a queued unaligned barrier back: pump again
  // after `connect_retry`.
  void RetryEventLater(size_t output);

  // Checkpoints.
  // A checkpoint of this task between its barrier and its upload.
  struct PendingSnapshot {
    uint64_t id = 0;
    std::string prefix;
    std::vector<std::pair<std::string, Bytes>> blobs;
    std::map<std::string, uint64_t> checksums;  // of blobs whose encoder computed it
    TaskSnapshot summary;
    // Held while set up; plus the sink's pre-commit, channel recording and a queued barrier.
    SnapshotLifecycle life;
    Time taken_at;  // when the barrier was handled (the synchronous capture)
    std::vector<std::pair<uint32_t, Buffer>> input_channels;  // unaligned: in-flight inputs
    BarrierInfo barrier;
    size_t outputs_holding = 0;  // outputs whose queue still holds its aligned barrier
  };
  // Takes the snapshot of `barrier`'s checkpoint (`alignment`: how long aligning it took);
  // returns whether it now waits for its input channel state (as TakeSnapshot).
  bool Snapshot(const BarrierInfo& barrier, Duration alignment);
  std::shared_ptr<PendingSnapshot> NewPendingSnapshot(const BarrierInfo& barrier,
                                                      Duration alignment);
  void CaptureSourceState(PendingSnapshot& snap);
  // Sends the barrier downstream: behind the emitted records (aligned; under the
  // aligned-checkpoint timeout it may still overtake them), or ahead of them (unaligned).
  void ForwardBarrier(const BarrierInfo& barrier, const std::shared_ptr<PendingSnapshot>& snap);
  // The sink's pre-commit joins the snapshot (its transactions, for a two-phase-commit sink).
  void PreCommitSink(const std::shared_ptr<PendingSnapshot>& snap);
  void Release(const std::shared_ptr<PendingSnapshot>& snap);
  void OvertakeOutputs(const Buffer& barrier, PendingSnapshot& snap);
  // Sends `barrier` on output `o` ahead of its queued buffers [front, end), collecting the
  // overtaken records.
  void JumpAhead(size_t o, size_t end, const Buffer& barrier,
                 std::vector<std::pair<uint32_t, Buffer>>& overtaken);
  // Aligned-checkpoint timeout on the output side: an aligned barrier still queued when the
  // timeout passes jumps ahead as an unaligned one; what it overtakes is channel state.
  void ConvertQueuedBarriers();
  // `checksums`: Checksum() of some of `blobs` by name, known from their encoding; the others
  // are checksummed here.
  void UploadSnapshot(uint64_t checkpoint_id, std::vector<std::pair<std::string, Bytes>> blobs,
                      const std::map<std::string, uint64_t>& checksums, TaskSnapshot summary,
                      SnapshotLifecycle life);
  void EndOfInput();
  // Reports the task finished after final checkpoint `checkpoint`'s commits.
  void Finish(uint64_t checkpoint);
  struct Upload;
  void FinishUpload(Upload& upload);

  TaskSetup setup_;
  // Shared with every asynchronous callback: false once the task is destroyed (cancelled by
  // its TaskManager while the process lives on), so late callbacks do nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  const TaskSpec& spec_;
  const ChainSpec& chain_;
  runtime::ProcessContext& ctx_;
  std::unique_ptr<KeyedStateBackend> backend_;
  Status backend_error_;  // the factory's, reported as the task starts
  std::unique_ptr<ChainRunner> runner_;
  std::vector<InputChannel> inputs_;
  std::map<runtime::ChannelId, size_t> input_by_channel_;
  std::map<runtime::ChannelId, bool> pending_accepts_;  // accepted, no handshake yet
  std::vector<OutputChannel> outputs_;
  std::map<runtime::ChannelId, size_t> output_by_channel_;
  // The rebalance partitioner's next output, and the input polled next: two counters, so that
  // which consumer a record goes to depends only on the records emitted before it (as Flink's
  // RebalancePartitioner), not on which inputs the task happened to poll.
  size_t round_robin_ = 0;
  size_t next_input_ = 0;
  Record input_record_;   // the record being processed, reused so decoding does not allocate
  Duration record_cost_;  // simulated processing time of one record through the chain
  // For a hash-partitioned output: the consumer subtask of each key group.
  std::vector<uint32_t> subtask_of_group_;
  bool step_scheduled_ = false;
  bool busy_ = false;
  bool flush_timer_scheduled_ = false;
  bool restoring_ = true;
  bool recovering_sink_ = false;  // restored; the sink's recovery commits still pending
  RestoreGuard restore_guard_;
  bool failed_ = false;
  bool end_of_input_reported_ = false;
  bool finishing_ = false;  // a final checkpoint's notification arrived
  // A source that took a stop-with-savepoint's snapshot: it emits nothing more (the records
  // after the savepoint's offsets belong to the job resumed from it).
  bool stopped_ = false;

  // Unaligned: the checkpoint waiting for its in-flight input (the barrier handler records it),
  // and restored channel state to replay.
  std::shared_ptr<PendingSnapshot> recording_;
  // Aligned-checkpoint timeout: the checkpoint whose aligned barrier is still queued on some
  // outputs.
  std::shared_ptr<PendingSnapshot> emitting_;
  std::deque<std::pair<size_t, Buffer>> restored_input_;

  // Barrier handling by checkpointing mode; constructed once the inputs are known.
  std::unique_ptr<CheckpointBarrierHandler> handler_;
  uint64_t processed_during_alignment_ = 0;  // bytes of input processed while aligning
  uint64_t last_checkpoint_ = 0;

  // Source state: per assigned partition, the next offset to read and whether it ended.
  struct PartitionCursor {
    uint32_t partition = 0;
    uint64_t next_offset = 0;
    bool ended = false;
    bool reading = false;
  };
  std::vector<PartitionCursor> cursors_;
  struct PendingRead {
    size_t cursor = 0;
    runtime::LogBatch batch;  // never empty
  };
  std::deque<PendingRead> source_pending_;  // read, not yet emitted; one per cursor at most
  // The batch being emitted, record by record (each takes the chain's record cost), and the
  // index of its next record. Its cursor may have the next batch read ahead meanwhile.
  std::optional<PendingRead> emitting_batch_;
  size_t emitting_next_ = 0;
  std::map<size_t, uint64_t> emitted_offsets_;  // cursor -> first offset not yet emitted
};

}  // namespace faultline::engine
