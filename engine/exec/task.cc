#include "engine/exec/task.h"

#include <algorithm>

#include "base/assert.h"
#include "base/hash.h"
#include "engine/exec/chain.h"
#include "engine/exec/cluster.h"
#include "engine/exec/events.h"
#include "engine/exec/observer.h"
#include "engine/exec/snapshot.h"
#include "engine/state/key_groups.h"

namespace faultline::engine {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Whether `buffer` is checkpoint `id`'s barrier (not an older checkpoint's, still queued).
bool IsBarrierOf(const Buffer& buffer, uint64_t id) {
  if (PeekType(buffer).value_or(BufferType::kRecords) != BufferType::kBarrier) return false;
  Result<BarrierInfo> barrier = DecodeBarrier(buffer);
  return barrier.ok() && barrier->checkpoint_id == id;
}

HandleKind HandleKindOf(const std::string& blob) {
  if (blob.starts_with(kSharedStatePrefix)) return HandleKind::kSharedNew;
  if (EndsWith(blob, "/keyed")) return HandleKind::kKeyed;
  if (EndsWith(blob, "/input-channels")) return HandleKind::kInputChannel;
  if (EndsWith(blob, "/output-channels")) return HandleKind::kOutputChannel;
  return HandleKind::kOperator;
}

}  // namespace

Task::Task(TaskSetup setup)
    : setup_(std::move(setup)),
      spec_(setup_.plan->tasks[setup_.task]),
      chain_(setup_.plan->chains[spec_.chain]),
      ctx_(setup_.context) {
  // A keyed operator in the chain gets a state backend over this subtask's key groups.
  const StateBackendFactory& factory =
      setup_.state_backend != nullptr ? *setup_.state_backend : setup_.config->state_backend;
  for (uint32_t i = chain_.first_operator; i <= chain_.last_operator; ++i) {
    const OperatorSpec& op = setup_.job->operators[i];
    if (op.kind == OperatorKind::kKeyedProcess) {
      const KeyGroupRange groups =
          KeyGroupRangeForOperator(spec_.subtask, op.parallelism, op.max_parallelism);
      if (!factory) {
        backend_ = NewHeapStateBackend(groups);
        continue;
      }
      StateBackendSetup backend_setup;
      backend_setup.key_groups = groups;
      backend_setup.local_fs = ctx_.local_fs;
      backend_setup.clock = ctx_.clock;
      backend_setup.task_directory = "/state/" + spec_.name;
      backend_setup.directory =
          backend_setup.task_directory + "/attempt-" + std::to_string(setup_.attempt);
      Result<std::unique_ptr<KeyedStateBackend>> made = factory(backend_setup);
      if (made.ok()) {
        backend_ = std::move(*made);
      } else {
        // The task fails as it starts; until then its chain needs a backend to point at.
        backend_error_ = made.status().WithContext(spec_.name + " opening its state backend");
        backend_ = NewHeapStateBackend(groups);
      }
    }
  }
  // Every record costs each operator of the chain (the source's included) its record cost.
  for (uint32_t op = chain_.first_operator; op <= chain_.last_operator; ++op) {
    record_cost_ += setup_.job->operators[op].record_cost;
  }
  if (spec_.chain + 1 < setup_.plan->chains.size()) {
    const ChainSpec& next = setup_.plan->chains[spec_.chain + 1];
    if (next.input_partitioner == Partitioner::kHash) {
      const OperatorSpec& first = setup_.job->operators[next.first_operator];
      for (KeyGroup group = 0; group < first.max_parallelism; ++group) {
        subtask_of_group_.push_back(
            OperatorIndexForKeyGroup(group, first.parallelism, first.max_parallelism));
      }
    }
  }
  runner_ = std::make_unique<ChainRunner>(
      *setup_.job, chain_, spec_.subtask, setup_.attempt, backend_.get(), ctx_,
      setup_.config->switches,
      [this](const Record& r) {
        // Route to the next chain by its input partitioner.
        const ChainSpec& next = setup_.plan->chains[spec_.chain + 1];
        const OperatorSpec& first = setup_.job->operators[next.first_operator];
        switch (next.input_partitioner) {
          case Partitioner::kForward:
            Emit(0, r.key, r);
            return;
          case Partitioner::kHash: {
            const std::string key = first.key_selector(r);
            const KeyGroup group = KeyGroupForKey(key, first.max_parallelism);
            FL_ASSERT(group < subtask_of_group_.size());
            Emit(subtask_of_group_[group], key, r);
            return;
          }
          case Partitioner::kRebalance:
            Emit(round_robin_++ % outputs_.size(), r.key, r);
            return;
          case Partitioner::kBroadcast:
            for (size_t o = 0; o < outputs_.size(); ++o) Emit(o, r.key, r);
            return;
        }
      },
      [this](const Status& why) { Fail(why); });
  if (SinkWriter* sink = runner_->sink(); sink != nullptr) {
    // After a rescale down, this subtask takes over the writers of the sink subtasks that no
    // longer exist (engine/exec/rescale.h: SinkHeir).
    const uint32_t parallelism = chain_.parallelism;
    std::vector<uint32_t> adopted;
    for (uint32_t w = spec_.subtask + parallelism; w < setup_.sink_writers; w += parallelism) {
      adopted.push_back(w);
    }
    sink->AdoptWriters(adopted);
  }
  for (uint32_t producer : setup_.plan->InputsOf(setup_.task)) {
    inputs_.push_back(InputChannel{producer, runtime::kNoChannel, {}, false, false});
    inputs_.back().queue.Observe(
        setup_.config->flow_observer,
        {setup_.task, setup_.attempt, false, static_cast<uint32_t>(inputs_.size() - 1), producer});
  }
  const CheckpointConfig& checkpoints = setup_.config->checkpoints;
  handler_ = NewBarrierHandler(checkpoints.mode,
                               {.aligned_timeout = checkpoints.aligned_timeout,
                                .no_alignment = setup_.config->switches.no_alignment},
                               *this);
  for (uint32_t consumer : setup_.plan->OutputsOf(setup_.task)) {
    OutputChannel out;
    out.consumer_task = consumer;
    out.queue.Observe(
        setup_.config->flow_observer,
        {setup_.task, setup_.attempt, true, static_cast<uint32_t>(outputs_.size()), consumer});
    outputs_.push_back(std::move(out));
  }
  if (setup_.plan->IsSource(setup_.task)) {
    const OperatorSpec& source = setup_.job->operators[0];
    const uint32_t partitions = ctx_.source_log->PartitionCount();
    for (uint32_t p = spec_.subtask; p < partitions; p += source.parallelism) {
      cursors_.push_back(PartitionCursor{p, 0, false, false});
    }
  }
}

Task::~Task() {
  *alive_ = false;  // callbacks already on their way find the task gone
  ctx_.transport->StopListening(spec_.data_port);
  for (const InputChannel& in : inputs_) {
    if (in.channel != runtime::kNoChannel) ctx_.transport->Close(in.channel);
  }
  for (const auto& [channel, pending] : pending_accepts_) ctx_.transport->Close(channel);
  for (const OutputChannel& out : outputs_) {
    if (out.channel != runtime::kNoChannel) ctx_.transport->Close(out.channel);
  }
}

void Task::Fail(const Status& why) {
  if (failed_) return;
  failed_ = true;
  ControlMessage m;
  m.type = ControlType::kTaskFailed;
  m.task = setup_.task;
  m.attempt = setup_.attempt;
  m.text = why.ToString();
  const bool data_error = why.code() == StatusCode::kDataLoss ||
                          why.code() == StatusCode::kNotFound ||
                          why.code() == StatusCode::kInvalidArgument;
  if (restoring_ && !recovering_sink_ && setup_.restore && data_error) {
    // The checkpoint being restored is unreadable (a blob missing, corrupt or undecodable): the
    // JobManager's unreadable-checkpoint policy decides what happens next. A transient error
    // (the store unavailable, a timeout) is an ordinary failure: the restart tries again.
    m.flags = kFailedRestoring;
    m.checkpoint_id = setup_.restore->checkpoint_id;
  }
  setup_.host->SendToJobManager(std::move(m));
}

void Task::Start() {
  if (!backend_error_.ok()) {
    Fail(backend_error_);
    return;
  }
  if (!inputs_.empty()) {
    Status listening = ctx_.transport->Listen(spec_.data_port, this);
    if (!listening.ok()) {
      Fail(listening.WithContext(spec_.name));
      return;
    }
  }
  if (setup_.restore) {
    Restore();
    return;
  }
  Begin();
}

void Task::Begin() {
  restore_guard_.BeginProcessing();
  restoring_ = false;
  if (ProcessingObserver* o = setup_.config->observer) {
    o->OnStart(setup_.task, setup_.attempt, setup_.restore ? setup_.restore->checkpoint_id : 0);
  }
  for (size_t o = 0; o < outputs_.size(); ++o) ConnectOutput(o);
  ControlMessage running;
  running.type = ControlType::kTaskRunning;
  running.task = setup_.task;
  running.attempt = setup_.attempt;
  setup_.host->SendToJobManager(std::move(running));
  if (setup_.plan->IsSource(setup_.task)) ReadSource();
  ScheduleStep();
}

void Task::Restore() {
  restore_guard_.BeginRestore();
  restoring_ = true;
  const TaskSnapshot& snapshot = *setup_.restore;
  ctx_.events->Record(MakeEvent(EngineEvent::kRestoreStarted, spec_.name,
                                {.checkpoint = static_cast<int64_t>(snapshot.checkpoint_id)}));
  last_checkpoint_ = snapshot.checkpoint_id;
  if (snapshot.handles.empty()) {
    restore_guard_.FinishRestore();
    Begin();
    return;
  }
  // Every blob is fetched; keyed state is applied once all arrived (an incremental handle
  // needs its shared files), the rest as each arrives.
  struct Fetched {
    size_t remaining = 0;
    std::vector<std::pair<size_t, Bytes>> keyed;
    std::map<std::string, Bytes> shared;
  };
  auto fetched = std::make_shared<Fetched>();
  fetched->remaining = snapshot.handles.size();
  for (size_t h = 0; h < snapshot.handles.size(); ++h) {
    ctx_.blob_store->Get(
        snapshot.handles[h].blob, [this, alive = alive_, h, fetched](Result<Bytes> data) {
          if (!*alive || failed_) return;
          const BlobHandle& handle = setup_.restore->handles[h];
          if (!data.ok()) {
            Fail(data.status().WithContext(spec_.name + " restoring " + handle.blob));
            return;
          }
          const uint64_t checksum =
              Checksum(std::as_bytes(std::span<const uint8_t>(data->data(), data->size())));
          if (!setup_.config->switches.skip_checksum &&
              (checksum != handle.checksum || data->size() != handle.size_bytes)) {
            Fail(DataLossError(spec_.name + ": blob " + handle.blob +
                               " does not match its checkpoint's checksum"));
            return;
          }
          if (handle.kind == HandleKind::kKeyed) {
            fetched->keyed.emplace_back(h, std::move(*data));
          } else if (IsShared(handle.kind)) {
            fetched->shared.emplace(handle.blob, std::move(*data));
          } else if (Status applied = ApplyRestoredBlob(handle, *data); !applied.ok()) {
            Fail(applied.WithContext(spec_.name + " restoring " + handle.blob));
            return;
          }
          if (--fetched->remaining > 0) return;
          std::sort(fetched->keyed.begin(), fetched->keyed.end(),
                    [](const auto& a, const auto& b) { return a.first < b.first; });
          if (!fetched->keyed.empty()) {
            // One restore of every keyed handle: after a rescale, several old subtasks' state
            // each gives this subtask's backend the key groups it now owns.
            Status applied = RestoreKeyed(fetched->keyed, fetched->shared);
            if (!applied.ok()) {
              Fail(applied.WithContext(spec_.name + " restoring keyed state"));
              return;
            }
          }
          RecoverSink();
        });
  }
}

void Task::RecoverSink() {
  SinkWriter* sink = runner_->sink();
  if (sink == nullptr) {
    FinishRestore();
    return;
  }
  // As Flink's two-phase-commit sinks in initializeState: the restored transactions of the
  // restored checkpoint (or earlier) belong to a completed checkpoint and are committed (those
  // not committed before the failure) before the task runs. Until then the task is not running,
  // so no checkpoint is triggered that would wait behind the commits in the sink's queue. The
  // checkpoint itself was readable: a failure now is an ordinary failure.
  recovering_sink_ = true;
  sink->RecoverUpTo(setup_.restore->checkpoint_id);
  sink->AfterQueued([this, alive = alive_] {
    if (!*alive || failed_) return;
    FinishRestore();
  });
}

void Task::FinishRestore() {
  restore_guard_.FinishRestore();
  ctx_.events->Record(
      MakeEvent(EngineEvent::kRestoreFinished, spec_.name,
                {.checkpoint = static_cast<int64_t>(setup_.restore->checkpoint_id),
                 .restored_digest = static_cast<int64_t>(backend_ ? backend_->Digest() : 0),
                 .recorded_digest = static_cast<int64_t>(setup_.restore->state_digest)}));
  Begin();
}

Status Task::RestoreKeyed(const std::vector<std::pair<size_t, Bytes>>& keyed,
                          const std::map<std::string, Bytes>& shared) {
  if (!backend_) return DataLossError("keyed state for a chain without a keyed operator");
  std::vector<RestoreSource> sources;
  for (const auto& [index, data] : keyed) {
    sources.push_back(RestoreSource{setup_.restore->handles[index].blob, &data,
                                    !setup_.config->switches.skip_checksum, &shared});
  }
  return backend_->Restore(sources);
}

Status Task::ApplyRestoredBlob(const BlobHandle& handle, const Bytes& data) {
  if (EndsWith(handle.blob, "/source")) {
    FL_ASSIGN_OR_RETURN(std::vector<SourceCursorState> cursors, DecodeSourceState(data));
    for (const SourceCursorState& saved : cursors) {
      for (size_t c = 0; c < cursors_.size(); ++c) {
        if (cursors_[c].partition != saved.partition) continue;
        cursors_[c].next_offset = saved.offset;
        cursors_[c].ended = saved.ended;
        emitted_offsets_[c] = saved.offset;
      }
    }
    return Status::Ok();
  }
  if (handle.kind == HandleKind::kInputChannel || handle.kind == HandleKind::kOutputChannel) {
    FL_ASSIGN_OR_RETURN(auto buffers, DecodeChannelState(data));
    if (setup_.config->switches.drop_channel_state) return Status::Ok();  // FLINK-20654
    for (auto& [index, buffer] : buffers) {
      if (handle.kind == HandleKind::kInputChannel) {
        if (index >= inputs_.size())
          return DataLossError("input channel state for channel " + std::to_string(index));
        restored_input_.emplace_back(index, std::move(buffer));
      } else {
        if (index >= outputs_.size())
          return DataLossError("output channel state for channel " + std::to_string(index));
        outputs_[index].queue.push_back(std::move(buffer));
      }
    }
    return Status::Ok();
  }
  if (EndsWith(handle.blob, "/sink")) {
    SinkWriter* sink = runner_->sink();
    if (sink == nullptr) return DataLossError("sink state for a chain without a sink");
    FL_ASSIGN_OR_RETURN(std::vector<PendingTransaction> pending, DecodeSinkState(data));
    // Its own writer's transactions, and after a rescale those of the writers it took over
    // (engine/exec/rescale.h); each transaction's name begins with its writer's.
    std::map<uint64_t, std::string> restored;
    std::vector<std::pair<uint64_t, std::string>> adopted;
    const std::string own = sink->writer() + "/";
    for (PendingTransaction& p : pending) {
      if (p.txn.starts_with(own)) {
        restored[p.checkpoint_id] = std::move(p.txn);
      } else {
        adopted.emplace_back(p.checkpoint_id, std::move(p.txn));
      }
    }
    if (!restored.empty()) sink->RestorePending(std::move(restored));
    sink->RestoreAdopted(adopted);  // all committed once every blob is applied
    return Status::Ok();
  }
  return DataLossError("unknown state blob " + handle.blob);
}

// --- output channels ------------------------------------------------------------------------

void Task::ConnectOutput(size_t index) {
  OutputChannel& out = outputs_[index];
  const TaskSpec& consumer = setup_.plan->tasks[out.consumer_task];
  out.writable = false;
  out.channel = ctx_.transport->Connect(runtime::Endpoint{consumer.node, consumer.data_port},
                                        {.credits = setup_.config->channel_credits}, this);
  output_by_channel_[out.channel] = index;
  // The handshake goes first, ahead of anything queued.
  Buffer hello;
  EncodeHandshake(hello, Handshake{setup_.task, setup_.attempt});
  out.queue.push_front(std::move(hello));
}

void Task::OnWritable(runtime::ChannelId channel) {
  auto it = output_by_channel_.find(channel);
  if (it == output_by_channel_.end()) return;
  outputs_[it->second].writable = true;
  Pump(it->second);
  if (!Backpressured()) ScheduleStep();
}

void Task::Pump(size_t index) {
  OutputChannel& out = outputs_[index];
  while (out.writable && !out.queue.empty()) {
    // The type before sending: sending takes the buffer's bytes.
    const bool is_barrier =
        PeekType(out.queue.front()).value_or(BufferType::kRecords) == BufferType::kBarrier;
    const bool barrier = emitting_ && IsBarrierOf(out.queue.front(), emitting_->id);
    if (is_barrier && IsUnalignedBarrier(out.queue.front())) {
      // An unaligned barrier is an event even when it waited in the queue (for the channel to
      // come up, or for the events in flight to drain): it takes no credit, as the consumer,
      // which handles it on arrival, returns none for it (Flink sends events without credit).
      if (!ctx_.transport->SendEvent(out.channel, out.queue.front())) {
        RetryEventLater(index);
        return;
      }
    } else if (!ctx_.transport->TrySend(out.channel, out.queue.front())) {
      return;
    }
    if (barrier) {
      if (--emitting_->outputs_holding == 0) {
        std::shared_ptr<PendingSnapshot> snap = std::move(emitting_);
        emitting_.reset();
        Release(snap);
      }
    }
    out.queue.pop_front(BufferFate::kSent);
  }
}

bool Task::IsUnalignedBarrier(const Buffer& buffer) {
  const Result<BarrierInfo> barrier = DecodeBarrier(buffer);
  return barrier.ok() && barrier->unaligned;
}

void Task::RetryEventLater(size_t index) {
  OutputChannel& out = outputs_[index];
  if (out.event_retry_scheduled) return;
  out.event_retry_scheduled = true;
  ctx_.scheduler->ScheduleAfter(setup_.config->connect_retry, [this, alive = alive_, index] {
    if (!*alive || failed_) return;
    outputs_[index].event_retry_scheduled = false;
    Pump(index);
    if (!Backpressured()) ScheduleStep();
  });
}

void Task::Emit(size_t index, std::string_view key, const Record& record) {
  OutputChannel& out = outputs_[index];
  if (out.open_records == 0) {
    // A network buffer has a fixed capacity (as Flink's memory segments): allocate it once.
    out.open.clear();
    out.open.reserve(setup_.config->buffer_bytes_max + 64);
    BeginRecords(out.open);
    out.open_bytes = out.open.size();
    out.opened_at = ctx_.clock->Now();
    ScheduleFlushTimer();
  }
  const size_t size = EncodedSizeForKey(key.size());
  // Grown by the record only: within the capacity reserved above this moves no memory, and the
  // bytes it zero-fills are the record's, written next (a buffer sealed by its timeout is often
  // far from full: growing it ahead would fill bytes never used).
  out.open.resize(out.open_bytes + size);
  EncodeRecord(out.open.data() + out.open_bytes, key, record.value, record.provenance);
  out.open_bytes += size;
  ++out.open_records;
  if (out.open_bytes >= setup_.config->buffer_bytes_max) Seal(index);
}

void Task::Seal(size_t index) {
  OutputChannel& out = outputs_[index];
  if (out.open_records == 0) return;
  out.open.resize(out.open_bytes);
  FinishRecords(out.open, out.open_records);
  out.queue.push_back(std::move(out.open));
  out.open = Buffer();
  out.open_bytes = 0;
  out.open_records = 0;
  Pump(index);
}

void Task::FlushAll() {
  for (size_t o = 0; o < outputs_.size(); ++o) Seal(o);
  runner_->Flush();
}

void Task::FlushDue() {
  // Flink's buffer timeout: a partly filled buffer goes out once it is this old, so a busy
  // channel sends full buffers and a quiet one still has bounded latency.
  const Duration timeout = setup_.config->buffer_timeout;
  const Time now = ctx_.clock->Now();
  for (size_t o = 0; o < outputs_.size(); ++o) {
    if (outputs_[o].open_records > 0 && now - outputs_[o].opened_at >= timeout) Seal(o);
  }
  runner_->Flush();
}

void Task::ScheduleFlushTimer() {
  if (flush_timer_scheduled_ || setup_.config->buffer_timeout == Duration::Zero()) return;
  flush_timer_scheduled_ = true;
  ctx_.scheduler->ScheduleAfter(setup_.config->buffer_timeout, [this, alive = alive_] {
    if (!*alive || failed_) return;
    flush_timer_scheduled_ = false;
    FlushDue();
    for (const OutputChannel& out : outputs_) {
      if (out.open_records > 0) {
        ScheduleFlushTimer();
        break;
      }
    }
  });
}

void Task::EmitToAll(const Buffer& buffer) {
  for (size_t o = 0; o < outputs_.size(); ++o) {
    Seal(o);
    outputs_[o].queue.push_back(buffer);
    Pump(o);
  }
}

bool Task::Backpressured() const {
  return std::any_of(outputs_.begin(), outputs_.end(), [this](const OutputChannel& out) {
    return out.queue.size() >= setup_.config->output_queue_max;
  });
}

// --- input channels -------------------------------------------------------------------------

void Task::OnAccepted(runtime::ChannelId channel, runtime::Endpoint from) {
  (void)from;
  pending_accepts_[channel] = true;
}

void Task::OnReceive(runtime::ChannelId channel, runtime::Buffer& buffer) {
  auto known = input_by_channel_.find(channel);
  if (known == input_by_channel_.end()) {
    // The first buffer of a channel names its producer.
    pending_accepts_.erase(channel);
    Result<Handshake> hello = DecodeHandshake(buffer);
    ctx_.transport->ReturnCredit(channel);
    if (!hello.ok() || hello->attempt != setup_.attempt) {
      ctx_.transport->Close(channel);  // a stranger, or a zombie of an earlier attempt
      return;
    }
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (inputs_[i].producer_task == hello->producer_task) {
        inputs_[i].channel = channel;
        input_by_channel_[channel] = i;
        return;
      }
    }
    ctx_.transport->Close(channel);
    return;
  }
  const size_t index = known->second;
  // The handler sees every buffer on arrival: an unaligned barrier overtakes the queue.
  const Result<bool> taken = handler_->OnArrival(index, buffer);
  if (FlowObserver* o = setup_.config->flow_observer; o != nullptr && taken.ok()) {
    o->OnArrived({setup_.task, setup_.attempt, false, static_cast<uint32_t>(index),
                  inputs_[index].producer_task},
                 *taken);
  }
  if (!taken.ok()) {
    Fail(taken.status().WithContext(spec_.name));
    return;
  }
  if (!*taken) inputs_[index].queue.push_back(std::move(buffer));
  ScheduleStep();
}

void Task::OnChannelFailed(runtime::ChannelId channel, const Status& why) {
  pending_accepts_.erase(channel);
  if (auto it = output_by_channel_.find(channel); it != output_by_channel_.end()) {
    const size_t index = it->second;
    output_by_channel_.erase(it);
    if (outputs_[index].channel != channel) return;
    outputs_[index].channel = runtime::kNoChannel;
    outputs_[index].writable = false;
    if (why.message().find("refused") != std::string_view::npos) {
      // The consumer is not listening yet (deployment order): try again shortly. The
      // handshake queued at the front is dropped and queued again by ConnectOutput.
      outputs_[index].queue.pop_front(BufferFate::kDropped);
      ctx_.scheduler->ScheduleAfter(setup_.config->connect_retry, [this, alive = alive_, index] {
        if (*alive) ConnectOutput(index);
      });
      return;
    }
    Fail(why.WithContext(spec_.name + " output to task " +
                         std::to_string(outputs_[index].consumer_task)));
    return;
  }
  if (auto it = input_by_channel_.find(channel); it != input_by_channel_.end()) {
    const size_t index = it->second;
    input_by_channel_.erase(it);
    inputs_[index].channel = runtime::kNoChannel;
    if (!inputs_[index].ended) {
      Fail(why.WithContext(spec_.name + " input from task " +
                           std::to_string(inputs_[index].producer_task)));
    }
  }
}

// --- processing -----------------------------------------------------------------------------

void Task::ScheduleStep() {
  if (step_scheduled_ || busy_ || failed_) return;
  step_scheduled_ = true;
  ctx_.scheduler->Post([this, alive = alive_] {
    if (!*alive) return;
    step_scheduled_ = false;
    Step();
  });
}

void Task::Step() {
  if (failed_ || busy_ || restoring_) return;
  if (Backpressured()) return;  // OnWritable schedules the next step
  if (setup_.plan->IsSource(setup_.task)) {
    EmitSourceRecords();
    return;
  }
  if (!restored_input_.empty()) {
    // Channel state first: in-flight data of the restored checkpoint, before any new input.
    auto [index, buffer] = std::move(restored_input_.front());
    restored_input_.pop_front();
    if (restored_input_.empty()) {
      ctx_.events->Record(MakeEvent(EngineEvent::kChannelStateReplayed, spec_.name,
                                    {.checkpoint = static_cast<int64_t>(last_checkpoint_)}));
    }
    ProcessBuffer(index, std::move(buffer));
    return;
  }
  for (size_t k = 0; k < inputs_.size(); ++k) {
    const size_t i = (next_input_ + k) % inputs_.size();
    InputChannel& in = inputs_[i];
    if (in.queue.empty() || in.blocked) continue;
    next_input_ = i + 1;
    Buffer buffer = std::move(in.queue.front());
    in.queue.pop_front(BufferFate::kProcessed);
    ReturnCredit(i);  // consumed: its credit goes back
    ProcessBuffer(i, std::move(buffer));
    return;
  }
}

void Task::ProcessBuffer(size_t input, Buffer buffer) {
  FL_ASSERT(restore_guard_.processing(), "input processed before the restore finished");
  Result<BufferType> type = PeekType(buffer);
  if (!type.ok()) {
    Fail(type.status().WithContext(spec_.name));
    return;
  }
  switch (*type) {
    case BufferType::kRecords: {
      if (handler_->Aligning()) processed_during_alignment_ += buffer.size();
      const Result<uint32_t> count = CheckRecords(buffer);
      if (!count.ok()) {
        Fail(count.status().WithContext(spec_.name));
        return;
      }
      Duration cost;
      ProcessingObserver* observer = setup_.config->observer;
      size_t offset = kRecordsHeaderBytes;
      for (uint32_t i = 0; i < *count; ++i) {
        ReadCheckedRecord(buffer, offset, input_record_);
        if (observer != nullptr) {
          observer->OnProcess(setup_.task, setup_.attempt, static_cast<uint32_t>(input),
                              input_record_);
        }
        runner_->Process(input_record_);
        cost += record_cost_;
      }
      FlushDue();
      // The chain is busy for the records' processing time: back-pressure builds upstream.
      busy_ = true;
      ctx_.scheduler->ScheduleAfter(cost, [this, alive = alive_] {
        if (!*alive) return;
        busy_ = false;
        ScheduleStep();
      });
      return;
    }
    case BufferType::kBarrier: {
      Result<BarrierInfo> barrier = DecodeBarrier(buffer);
      if (!barrier.ok()) {
        Fail(barrier.status().WithContext(spec_.name));
        return;
      }
      handler_->OnBarrier(input, *barrier);
      ScheduleStep();
      return;
    }
    case BufferType::kCancelMarker: {
      Result<uint64_t> cancelled = DecodeCancelMarker(buffer);
      if (!cancelled.ok()) {
        Fail(cancelled.status().WithContext(spec_.name));
        return;
      }
      handler_->OnCancelMarker(input, *cancelled);
      ScheduleStep();
      return;
    }
    case BufferType::kEndOfData:
      HandleEndOfData(input);
      ScheduleStep();
      return;
    case BufferType::kHandshake:
      break;
  }
  Fail(DataLossError(spec_.name + ": unexpected handshake in the middle of a channel"));
}

void Task::Decline(uint64_t checkpoint, DeclineReason reason) {
  ControlMessage decline;
  decline.type = ControlType::kDecline;
  decline.task = setup_.task;
  decline.attempt = setup_.attempt;
  decline.checkpoint_id = checkpoint;
  decline.flags = static_cast<uint64_t>(reason);
  decline.text = std::string(DeclineReasonName(reason));
  setup_.host->SendToJobManager(std::move(decline));
  ctx_.events->Record(MakeEvent(
      EngineEvent::kCheckpointDeclined, spec_.name,
      {.checkpoint = static_cast<int64_t>(checkpoint), .reason = static_cast<int64_t>(reason)}));
  if (outputs_.empty()) return;
  // Flink's CancelCheckpointMarker: in band, behind everything emitted before it, on every
  // output, so the consumers stop aligning the checkpoint without waiting for the JobManager.
  Buffer marker;
  EncodeCancelMarker(marker, checkpoint);
  EmitToAll(marker);
  ctx_.events->Record(MakeEvent(EngineEvent::kCancelMarkerSent, spec_.name,
                                {.checkpoint = static_cast<int64_t>(checkpoint)}));
}

bool Task::AlignmentTimedOut(const BarrierInfo& barrier) const {
  const CheckpointConfig& cc = setup_.config->checkpoints;
  return cc.mode == CheckpointMode::kUnaligned && cc.aligned_timeout > Duration::Zero() &&
         ctx_.clock->Now() >= barrier.timestamp + cc.aligned_timeout;
}

ChannelBuffers Task::CollectInFlight(uint64_t checkpoint_id, std::vector<bool>& received) {
  // In flight with respect to a snapshot taken now: restored channel state not yet replayed,
  // and on every input whose barrier has not been processed, what is queued before it. An
  // aligned barrier already queued (not yet processed) leaves the queue: its channel is done.
  ChannelBuffers in_flight;
  for (const auto& [index, buffer] : restored_input_) {
    in_flight.emplace_back(static_cast<uint32_t>(index), buffer);
  }
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (received[i]) continue;
    InputChannel& in = inputs_[i];
    for (size_t k = 0; k < in.queue.size(); ++k) {
      const BufferType type = PeekType(in.queue[k]).value_or(BufferType::kHandshake);
      if (type == BufferType::kRecords) {
        in_flight.emplace_back(static_cast<uint32_t>(i), in.queue[k]);
        continue;
      }
      if (type != BufferType::kBarrier) continue;
      Result<BarrierInfo> queued = DecodeBarrier(in.queue[k]);
      if (queued.ok() && queued->checkpoint_id == checkpoint_id) {
        in.queue.erase(k, BufferFate::kProcessed);
        ReturnCredit(i);
        ctx_.events->Record(MakeEvent(
            EngineEvent::kBarrierReceived, spec_.name,
            {.checkpoint = static_cast<int64_t>(checkpoint_id), .input = static_cast<int64_t>(i)}));
        received[i] = true;
        break;
      }
    }
  }
  return in_flight;
}

void Task::UnblockInputs() {
  for (InputChannel& in : inputs_) in.blocked = false;
}

void Task::ReturnCredit(size_t input) {
  // An input that ended may lose its channel (its producer's node went away) with buffers still
  // queued (the final checkpoint's barriers come after the end of data): they are processed, and
  // no credit goes back to a channel that is gone.
  if (inputs_[input].channel == runtime::kNoChannel) return;
  ctx_.transport->ReturnCredit(inputs_[input].channel);
}

void Task::ScheduleTimeout(Duration delay, uint64_t checkpoint) {
  ctx_.scheduler->ScheduleAfter(delay, [this, alive = alive_, checkpoint] {
    if (*alive && !failed_) handler_->OnTimeout(checkpoint);
  });
}

void Task::HandleEndOfData(size_t input) {
  inputs_[input].ended = true;
  handler_->OnEndOfData(input);
  if (std::all_of(inputs_.begin(), inputs_.end(),
                  [](const InputChannel& in) { return in.ended; })) {
    EndOfInput();
  }
}

void Task::EndOfInput() {
  if (end_of_input_reported_) return;
  FlushAll();
  Buffer eod;
  EncodeEndOfData(eod);
  EmitToAll(eod);
  end_of_input_reported_ = true;
  ctx_.events->Record(MakeEvent(EngineEvent::kEndOfInput, spec_.name, {}));
  ControlMessage m;
  m.type = ControlType::kEndOfInput;
  m.task = setup_.task;
  m.attempt = setup_.attempt;
  setup_.host->SendToJobManager(std::move(m));
}

// --- sources --------------------------------------------------------------------------------

void Task::ReadSource() {
  if (failed_ || stopped_) return;
  bool all_ended = true;
  for (size_t c = 0; c < cursors_.size(); ++c) {
    PartitionCursor& cursor = cursors_[c];
    if (cursor.ended) continue;
    all_ended = false;
    if (cursor.reading) continue;
    // Keep at most one batch per partition waiting to be emitted.
    bool pending = std::any_of(source_pending_.begin(), source_pending_.end(),
                               [c](const PendingRead& p) { return p.cursor == c; });
    if (pending) continue;
    cursor.reading = true;
    const uint32_t max_records = setup_.job->operators[0].source.max_records_per_read;
    ctx_.source_log->Read(
        cursor.partition, cursor.next_offset, max_records,
        [this, alive = alive_, c](Result<runtime::LogBatch> records) {
          if (!*alive) return;
          PartitionCursor& cur = cursors_[c];
          cur.reading = false;
          if (!records.ok()) {
            // An unavailable log is retried; anything else fails the task.
            if (records.status().code() == StatusCode::kUnavailable) {
              ctx_.scheduler->ScheduleAfter(Duration::Millis(50), [this, alive] {
                if (*alive) ReadSource();
              });
            } else {
              Fail(records.status().WithContext(spec_.name + " reading partition " +
                                                std::to_string(cur.partition)));
            }
            return;
          }
          if (records->records.empty()) {
            cur.ended = true;  // bounded input: the partition is exhausted
          } else {
            cur.next_offset = records->first_offset + records->records.size();
            source_pending_.push_back({c, std::move(*records)});
          }
          ScheduleStep();
          ReadSource();
        });
  }
  // The input ends once the last batch's emission time has passed too, not at the read that
  // finds the partitions exhausted (fetched ahead, while that batch is still being emitted).
  if (all_ended && source_pending_.empty() && !emitting_batch_ && !busy_) EndOfInput();
}

void Task::EmitSourceRecords() {
  FL_ASSERT(restore_guard_.processing(), "a source emitting before the restore finished");
  if (stopped_) return;
  if (!emitting_batch_) {
    if (source_pending_.empty()) {
      bool all_ended = std::all_of(cursors_.begin(), cursors_.end(),
                                   [](const PartitionCursor& c) { return c.ended; });
      if (all_ended) EndOfInput();
      return;
    }
    emitting_batch_ = std::move(source_pending_.front());
    source_pending_.pop_front();
    emitting_next_ = 0;
    // Fetch ahead while this batch is being emitted, as a Kafka consumer does.
    ReadSource();
  }
  // Emit the batch's records one at a time, each taking the record cost (a free chain emits the
  // rest of the batch at once): a barrier, back-pressure or a failure can come between any two.
  const size_t cursor_index = emitting_batch_->cursor;
  const runtime::LogBatch& batch = emitting_batch_->batch;
  const OperatorSpec& source = setup_.job->operators[chain_.first_operator];
  uint64_t& emitted = emitted_offsets_[cursor_index];
  Duration cost;
  while (emitting_next_ < batch.records.size() && cost == Duration::Zero()) {
    const size_t i = emitting_next_++;
    const uint64_t log_offset = batch.first_offset + i;
    size_t offset = 0;
    Record& record = input_record_;  // decoded in place: no allocation per record
    if (!ReadRecordInto(batch.records[i], offset, record)) {
      offset = 0;
      Result<Record> decoded = ReadRecord(batch.records[i], offset);  // says what is wrong
      Fail((decoded.ok() ? DataLossError("a record cut short") : decoded.status())
               .WithContext(spec_.name + " decoding partition " +
                            std::to_string(cursors_[cursor_index].partition) + " offset " +
                            std::to_string(log_offset)));
      return;
    }
    const RecordId id{source.source.source_id, cursors_[cursor_index].partition, log_offset};
    record.provenance = Provenance::Of(id);
    if (ProcessingObserver* o = setup_.config->observer) {
      o->OnSourceEmit(setup_.task, setup_.attempt, id);
    }
    runner_->Process(record);
    emitted = log_offset + 1;
    cost += record_cost_;
  }
  if (emitting_next_ == batch.records.size()) emitting_batch_.reset();
  FlushDue();
  busy_ = true;
  ctx_.scheduler->ScheduleAfter(cost, [this, alive = alive_] {
    if (!*alive) return;
    busy_ = false;
    ScheduleStep();
    ReadSource();
  });
}

// --- checkpoints ----------------------------------------------------------------------------

void Task::TriggerCheckpoint(const BarrierInfo& barrier) {
  FL_ASSERT(setup_.plan->IsSource(setup_.task), "only sources are triggered");
  if (failed_ || barrier.checkpoint_id <= last_checkpoint_) return;
  BarrierInfo b = barrier;
  // Unaligned from the start, or because the aligned-checkpoint timeout already passed.
  b.unaligned = barrier.unaligned || AlignmentTimedOut(barrier);
  Snapshot(b, Duration::Zero());
}

bool Task::TakeSnapshot(const BarrierInfo& barrier, Duration alignment) {
  return Snapshot(barrier, alignment);
}

bool Task::Snapshot(const BarrierInfo& barrier, Duration alignment) {
  const uint64_t id = barrier.checkpoint_id;
  last_checkpoint_ = id;
  std::shared_ptr<PendingSnapshot> snap = NewPendingSnapshot(barrier, alignment);
  // Synchronous part: capture keyed state and operator state at the barrier.
  std::unique_ptr<StateSnapshot> keyed;
  if (backend_) {
    keyed = backend_->Capture();
    snap->summary.state_digest = keyed->digest();
    snap->summary.state_entries = keyed->entries();
  }
  if (setup_.plan->IsSource(setup_.task)) CaptureSourceState(*snap);
  snap->life.Captured();
  if (ProcessingObserver* o = setup_.config->observer) {
    o->OnSnapshot(setup_.task, setup_.attempt, id);
  }
  ctx_.events->Record(MakeEvent(EngineEvent::kSnapshotCaptured, spec_.name,
                                {.checkpoint = static_cast<int64_t>(id),
                                 .entries = static_cast<int64_t>(snap->summary.state_entries),
                                 .digest = static_cast<int64_t>(snap->summary.state_digest)}));
  ForwardBarrier(barrier, snap);
  ctx_.events->Record(MakeEvent(EngineEvent::kBarrierEmitted, spec_.name,
                                {.checkpoint = static_cast<int64_t>(id)}));
  // A stop-with-savepoint: nothing follows the barrier out of a source.
  if (barrier.stop && setup_.plan->IsSource(setup_.task)) stopped_ = true;
  // Asynchronous part: materialize, pre-commit the sink, upload, then acknowledge. A savepoint
  // is in the canonical format: full keyed state, whatever the backend checkpoints.
  if (keyed && keyed->incremental() && !barrier.savepoint) {
    const std::string shared_prefix = std::string(kSharedStatePrefix) + spec_.name + "/attempt-" +
                                      std::to_string(setup_.attempt) + "/chk-" +
                                      std::to_string(id) + "-";
    Result<IncrementalUpload> upload = keyed->MaterializeIncremental(id, shared_prefix);
    if (!upload.ok()) {
      Fail(upload.status().WithContext(spec_.name + " checkpoint " + std::to_string(id)));
      return false;
    }
    snap->blobs.emplace_back(snap->prefix + "keyed", std::move(upload->handle));
    for (SharedFile& file : upload->shared) {
      if (file.reused) {
        snap->summary.handles.push_back(
            BlobHandle{HandleKind::kSharedReused, file.blob, file.size_bytes, file.checksum});
        continue;
      }
      snap->checksums[file.blob] = file.checksum;
      snap->blobs.emplace_back(std::move(file.blob), std::move(file.bytes));
    }
  } else if (keyed) {
    Result<Bytes> bytes = keyed->MaterializeOnce();  // `keyed` is not read again
    if (!bytes.ok()) {
      Fail(bytes.status().WithContext(spec_.name + " checkpoint " + std::to_string(id)));
      return false;
    }
    if (const std::optional<uint64_t> checksum = keyed->MaterializedChecksum()) {
      snap->checksums[snap->prefix + "keyed"] = *checksum;
    }
    snap->blobs.emplace_back(snap->prefix + "keyed", std::move(*bytes));
  }
  const bool awaits_channel_state = barrier.unaligned && !inputs_.empty();
  if (awaits_channel_state) {
    // Until barrier n arrives on every input, what arrives before it is in-flight data.
    snap->life.Hold();
    recording_ = snap;
  }
  if (runner_->sink() != nullptr) PreCommitSink(snap);
  Release(snap);
  return awaits_channel_state;
}

std::shared_ptr<Task::PendingSnapshot> Task::NewPendingSnapshot(const BarrierInfo& barrier,
                                                                Duration alignment) {
  const uint64_t id = barrier.checkpoint_id;
  auto snap = std::make_shared<PendingSnapshot>();
  snap->life.Hold();  // until Snapshot is done with it
  snap->id = id;
  snap->prefix =
      (barrier.savepoint ? SavepointDirectory(id) : "checkpoints/chk-" + std::to_string(id)) + "/" +
      spec_.name + "/attempt-" + std::to_string(setup_.attempt) + "/";
  snap->summary.task = setup_.task;
  snap->summary.checkpoint_id = id;
  snap->summary.alignment = alignment;
  snap->taken_at = ctx_.clock->Now();
  // Flink's start delay: from the trigger (the coordinator's clock) to the first barrier here.
  snap->summary.start_delay =
      std::max(Duration::Zero(), snap->taken_at - alignment - barrier.timestamp);
  snap->summary.processed_bytes = processed_during_alignment_;
  processed_during_alignment_ = 0;
  return snap;
}

void Task::CaptureSourceState(PendingSnapshot& snap) {
  std::vector<SourceCursorState> cursors;
  for (size_t c = 0; c < cursors_.size(); ++c) {
    // The offset of the first record not emitted before the barrier (offset-after-emit:
    // the read-ahead offset, which skips what was read but not yet emitted).
    const uint64_t emitted = setup_.config->switches.offset_after_emit
                                 ? cursors_[c].next_offset
                                 : (emitted_offsets_.count(c) ? emitted_offsets_[c] : 0);
    const bool ended = cursors_[c].ended && !(emitting_batch_ && emitting_batch_->cursor == c) &&
                       std::none_of(source_pending_.begin(), source_pending_.end(),
                                    [c](const PendingRead& p) { return p.cursor == c; });
    cursors.push_back(SourceCursorState{cursors_[c].partition, emitted, ended});
  }
  snap.blobs.emplace_back(snap.prefix + "source", EncodeSourceState(cursors));
}

void Task::ForwardBarrier(const BarrierInfo& barrier,
                          const std::shared_ptr<PendingSnapshot>& snap) {
  Buffer encoded;
  EncodeBarrier(encoded, barrier);
  if (barrier.unaligned) {
    OvertakeOutputs(encoded, *snap);
    return;
  }
  // Aligned and at-least-once: the barrier follows everything emitted before it.
  FlushAll();
  EmitToAll(encoded);
  const Duration timeout = setup_.config->checkpoints.aligned_timeout;
  if (timeout == Duration::Zero() || emitting_) return;
  // Until each output has sent it, the barrier may still have to overtake its queue.
  for (const OutputChannel& out : outputs_) {
    if (!out.queue.empty() &&
        PeekType(out.queue.back()).value_or(BufferType::kRecords) == BufferType::kBarrier) {
      ++snap->outputs_holding;
    }
  }
  if (snap->outputs_holding == 0) return;
  snap->barrier = barrier;
  snap->life.Hold();
  emitting_ = snap;
  const Duration left = std::max(Duration::Zero(), barrier.timestamp + timeout - ctx_.clock->Now());
  ctx_.scheduler->ScheduleAfter(left, [this, alive = alive_, id = snap->id] {
    if (*alive && !failed_ && emitting_ && emitting_->id == id) ConvertQueuedBarriers();
  });
}

void Task::PreCommitSink(const std::shared_ptr<PendingSnapshot>& snap) {
  snap->life.Hold();
  const bool two_phase =
      setup_.job->operators[chain_.last_operator].sink.kind == SinkKind::kTwoPhaseCommit;
  runner_->sink()->PreCommit(snap->id, [this, alive = alive_, snap, two_phase] {
    if (!*alive) return;
    if (two_phase) {
      // The pre-committed transaction for this checkpoint joins the sink's state.
      std::vector<PendingTransaction> pending;
      for (const auto& [checkpoint, txn] : runner_->sink()->pending()) {
        if (checkpoint <= snap->id) pending.push_back(PendingTransaction{checkpoint, txn});
      }
      snap->blobs.emplace_back(snap->prefix + "sink", EncodeSinkState(pending));
    }
    Release(snap);
  });
}

void Task::PersistChannelState(uint64_t checkpoint, ChannelBuffers in_flight, Duration alignment) {
  FL_ASSERT(recording_ && recording_->id == checkpoint, "no snapshot waits for this channel state");
  std::shared_ptr<PendingSnapshot> snap = std::move(recording_);
  recording_.reset();
  snap->summary.alignment = alignment;
  snap->input_channels = std::move(in_flight);
  Release(snap);
}

void Task::AbandonChannelState(uint64_t checkpoint) {
  FL_ASSERT(recording_ && recording_->id == checkpoint, "no snapshot waits for this channel state");
  recording_.reset();
}

void Task::Release(const std::shared_ptr<PendingSnapshot>& snap) {
  if (!snap->life.Drop()) return;
  if (setup_.config->persisted_input_channels) {
    setup_.config->persisted_input_channels(snap->id, snap->input_channels);
  }
  if (!snap->input_channels.empty()) {
    snap->blobs.emplace_back(snap->prefix + "input-channels",
                             EncodeChannelState(snap->input_channels));
  }
  for (const auto& [name, bytes] : snap->blobs) {
    if (HandleKindOf(name) == HandleKind::kInputChannel ||
        HandleKindOf(name) == HandleKind::kOutputChannel) {
      snap->summary.persisted_in_flight_bytes += bytes.size();
    }
  }
  // The synchronous part costs no simulated time (no CPU model); the asynchronous part runs
  // from the barrier to the last durable upload.
  snap->summary.sync_duration = Duration::Zero();
  snap->summary.async_duration = ctx_.clock->Now() - snap->taken_at;
  UploadSnapshot(snap->id, std::move(snap->blobs), snap->checksums, std::move(snap->summary),
                 snap->life);
}

void Task::JumpAhead(size_t o, size_t end, const Buffer& barrier,
                     std::vector<std::pair<uint32_t, Buffer>>& overtaken) {
  // The barrier goes ahead of the output's queued buffers [front, end); the records among them
  // are overtaken (persisted as output channel state; they are still sent, behind the barrier).
  OutputChannel& out = outputs_[o];
  size_t insert_at = 0;
  if (!out.queue.empty() &&
      PeekType(out.queue.front()).value_or(BufferType::kRecords) == BufferType::kHandshake) {
    insert_at = 1;  // never ahead of the handshake
  }
  for (size_t k = insert_at; k < end; ++k) {
    if (PeekType(out.queue[k]).value_or(BufferType::kHandshake) == BufferType::kRecords) {
      overtaken.emplace_back(static_cast<uint32_t>(o), out.queue[k]);
    }
  }
  // The barrier needs no credit: a back-pressured channel cannot hold it back. Before the
  // channel is up (handshake still queued) it waits its turn in the queue, and Pump sends it
  // as an event all the same.
  Buffer event = barrier;
  if (insert_at == 0 && out.writable && ctx_.transport->SendEvent(out.channel, event)) {
    out.queue.SentDirectly(barrier);
    return;
  }
  out.queue.insert(insert_at, barrier);
  Pump(o);
}

void Task::OvertakeOutputs(const Buffer& barrier, PendingSnapshot& snap) {
  // Unaligned: the barrier jumps ahead of every queued output buffer.
  std::vector<std::pair<uint32_t, Buffer>> overtaken;
  for (size_t o = 0; o < outputs_.size(); ++o) {
    Seal(o);
    JumpAhead(o, outputs_[o].queue.size(), barrier, overtaken);
  }
  if (!overtaken.empty()) {
    snap.blobs.emplace_back(snap.prefix + "output-channels", EncodeChannelState(overtaken));
  }
}

void Task::ConvertQueuedBarriers() {
  std::shared_ptr<PendingSnapshot> snap = std::move(emitting_);
  emitting_.reset();
  BarrierInfo barrier = snap->barrier;
  barrier.unaligned = true;
  Buffer encoded;
  EncodeBarrier(encoded, barrier);
  std::vector<std::pair<uint32_t, Buffer>> overtaken;
  for (size_t o = 0; o < outputs_.size(); ++o) {
    OutputChannel& out = outputs_[o];
    // This checkpoint's own barrier: an older checkpoint's (aborted, its barrier still queued)
    // may come first, and stays where it is.
    size_t at = out.queue.size();
    for (size_t k = 0; k < out.queue.size(); ++k) {
      if (IsBarrierOf(out.queue[k], snap->id)) {
        at = k;
        break;
      }
    }
    if (at == out.queue.size()) continue;  // already sent
    // The queued aligned barrier is replaced by an unaligned one ahead of what preceded it.
    out.queue.erase(at, BufferFate::kDropped);
    JumpAhead(o, at, encoded, overtaken);
  }
  ctx_.events->Record(MakeEvent(EngineEvent::kAlignmentTimedOut, spec_.name,
                                {.checkpoint = static_cast<int64_t>(snap->id),
                                 .in_flight_buffers = static_cast<int64_t>(overtaken.size()),
                                 .output_side = 1}));
  if (!overtaken.empty()) {
    snap->blobs.emplace_back(snap->prefix + "output-channels", EncodeChannelState(overtaken));
  }
  Release(snap);
}

struct Task::Upload {
  uint64_t checkpoint_id = 0;
  Time started;
  TaskSnapshot summary;
  SnapshotLifecycle life;
  bool failed = false;
};

void Task::UploadSnapshot(uint64_t checkpoint_id, std::vector<std::pair<std::string, Bytes>> blobs,
                          const std::map<std::string, uint64_t>& checksums, TaskSnapshot summary,
                          SnapshotLifecycle life) {
  const auto checksum_of = [&checksums](const std::string& name, const Bytes& bytes) {
    const auto known = checksums.find(name);
    return known != checksums.end()
               ? known->second
               : Checksum(std::as_bytes(std::span<const uint8_t>(bytes.data(), bytes.size())));
  };
  auto upload = std::make_shared<Upload>();
  upload->checkpoint_id = checkpoint_id;
  upload->started = ctx_.clock->Now();
  upload->summary = std::move(summary);
  upload->life = life;
  upload->life.UploadsStarted(blobs.size());
  // ack-before-upload: the acknowledgement goes out now, whatever becomes of the uploads.
  const bool ack_early = setup_.config->switches.ack_before_upload;
  if (blobs.empty() || ack_early) {
    for (const auto& [name, bytes] : blobs) {
      upload->summary.handles.push_back(
          BlobHandle{HandleKindOf(name), name, bytes.size(), checksum_of(name, bytes)});
      upload->summary.state_bytes += bytes.size();
    }
    FinishUpload(*upload);
    if (ack_early) {
      for (auto& [name, bytes] : blobs) ctx_.blob_store->Put(name, std::move(bytes), [](Status) {});
    }
    return;
  }
  for (auto& [name, bytes] : blobs) {
    const HandleKind kind = HandleKindOf(name);
    upload->summary.handles.push_back(
        BlobHandle{kind, name, bytes.size(), checksum_of(name, bytes)});
    upload->summary.state_bytes += bytes.size();
    ctx_.blob_store->Put(name, std::move(bytes), [this, alive = alive_, upload](Status s) {
      if (!*alive) return;
      if (!s.ok()) upload->failed = true;
      if (upload->life.UploadFinished()) FinishUpload(*upload);
    });
  }
}

void Task::FinishUpload(Upload& upload) {
  ControlMessage m;
  if (upload.failed) {
    // As Flink's asynchronous snapshot part cleans up when it fails: what this snapshot put
    // goes (nothing else will name it); its reused shared files are earlier checkpoints'.
    for (const BlobHandle& h : upload.summary.handles) {
      if (h.kind != HandleKind::kSharedReused) ctx_.blob_store->Delete(h.blob, [](Status) {});
    }
    m.type = ControlType::kDecline;
    m.flags = static_cast<uint64_t>(DeclineReason::kUploadFailed);
    m.text = "state upload failed";
    ctx_.events->Record(MakeEvent(EngineEvent::kCheckpointDeclined, spec_.name,
                                  {.checkpoint = static_cast<int64_t>(upload.checkpoint_id),
                                   .reason = static_cast<int64_t>(DeclineReason::kUploadFailed)}));
  } else {
    upload.life.Acknowledge(setup_.config->switches.ack_before_upload);
    ctx_.events->Record(MakeEvent(EngineEvent::kUploaded, spec_.name,
                                  {.checkpoint = static_cast<int64_t>(upload.checkpoint_id),
                                   .bytes = static_cast<int64_t>(upload.summary.state_bytes)}));
    m.type = ControlType::kAck;
    TaskSnapshot summary = upload.summary;
    summary.async_duration += ctx_.clock->Now() - upload.started;  // until durable
    m.payload = EncodeTaskSnapshot(summary);
    ctx_.events->Record(
        MakeEvent(EngineEvent::kAckSent, spec_.name,
                  {.checkpoint = static_cast<int64_t>(upload.checkpoint_id),
                   .start_delay_nanos = summary.start_delay.nanos(),
                   .processed_bytes = static_cast<int64_t>(summary.processed_bytes)}));
  }
  m.task = setup_.task;
  m.attempt = setup_.attempt;
  m.checkpoint_id = upload.checkpoint_id;
  setup_.host->SendToJobManager(std::move(m));
}

void Task::NotifyCheckpointComplete(uint64_t checkpoint_id, bool final, bool stop) {
  if (backend_) backend_->NotifyCheckpointComplete(checkpoint_id);
  SinkWriter* sink = runner_->sink();
  if (sink != nullptr) sink->CommitUpTo(checkpoint_id);
  if (stop) stopped_ = true;
  if (!(stop || (final && end_of_input_reported_)) || finishing_ || failed_) return;
  // FLIP-147: a task finishes only after the final checkpoint's notification, once its sink
  // committed. A failure until then is an ordinary failover: the restored sink commits.
  finishing_ = true;
  if (sink == nullptr) {
    Finish(checkpoint_id);
    return;
  }
  sink->AfterQueued([this, alive = alive_, checkpoint_id] {
    if (*alive && !failed_) Finish(checkpoint_id);
  });
}

void Task::Finish(uint64_t checkpoint) {
  ctx_.events->Record(MakeEvent(EngineEvent::kTaskFinished, spec_.name,
                                {.checkpoint = static_cast<int64_t>(checkpoint)}));
  ControlMessage m;
  m.type = ControlType::kTaskFinished;
  m.task = setup_.task;
  m.attempt = setup_.attempt;
  m.checkpoint_id = checkpoint;
  setup_.host->SendToJobManager(std::move(m));
}

void Task::NotifyCheckpointAborted(uint64_t checkpoint_id) {
  // Late barriers of an aborted checkpoint are ignored from now on.
  if (checkpoint_id > last_checkpoint_ && !handler_->RecordingNewerThan(checkpoint_id)) {
    last_checkpoint_ = checkpoint_id;
  }
  if (emitting_ && emitting_->id == checkpoint_id) emitting_.reset();
  handler_->OnCheckpointAborted(checkpoint_id);
}

}  // namespace faultline::engine
