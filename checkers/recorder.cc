#include "checkers/recorder.h"

#include <algorithm>
#include <charconv>
#include <span>
#include <utility>

#include "base/hash.h"
#include "checkers/blob_reader.h"
#include "checkers/channel_state.h"
#include "checkers/incremental_state.h"
#include "checkers/key_groups.h"
#include "checkers/run_view.h"
#include "checkers/stored_message.h"
#include "engine/exec/cluster.h"
#include "engine/proto/checkpoint.pb.h"

namespace faultline::checkers {
namespace {

bool IsBlobPoint(sim::FaultPoint p) {
  return p == sim::FaultPoint::kBlobPut || p == sim::FaultPoint::kBlobGet ||
         p == sim::FaultPoint::kBlobDelete || p == sim::FaultPoint::kBlobList;
}

}  // namespace

uint64_t CheckpointOfBlob(std::string_view blob) {
  // Savepoints take their ids from the same counter: an id names one or the other.
  constexpr std::string_view kPrefix = "checkpoints/chk-";
  constexpr std::string_view kSavepoint = "savepoints/sp-";
  if (blob.starts_with(kPrefix)) {
    blob.remove_prefix(kPrefix.size());
  } else if (blob.starts_with(kSavepoint)) {
    blob.remove_prefix(kSavepoint.size());
  } else {
    return 0;
  }
  uint64_t id = 0;
  const auto [end, ec] = std::from_chars(blob.data(), blob.data() + blob.size(), id);
  if (ec != std::errc() || end == blob.data()) return 0;
  return id;
}

Result<CheckpointBlobs> ReadCheckpointBlobs(const std::vector<uint8_t>& metadata,
                                            std::string_view name) {
  FL_ASSIGN_OR_RETURN(engine::proto::CheckpointMetadata decoded,
                      ReadMetadataBlob(metadata, "checkpoint metadata blob " + std::string(name)));
  CheckpointBlobs out;
  out.checkpoint = decoded.checkpoint_id();
  out.generation = decoded.plan_generation();
  out.referenced.assign(decoded.referenced_blobs().begin(), decoded.referenced_blobs().end());
  for (const auto& op : decoded.operators()) {
    for (const auto& subtask : op.subtasks()) {
      CheckpointBlobs::SubtaskHandles& handles = out.subtasks.emplace_back();
      handles.op = op.operator_id();
      handles.subtask = subtask.subtask_index();
      for (const auto* list : {&subtask.keyed_state(), &subtask.shared_state()}) {
        for (const auto& h : *list) {
          handles.keyed.push_back({h.blob_name(), h.first_key_group(), h.last_key_group()});
        }
      }
      for (const auto& h : subtask.operator_state())
        handles.operator_state.push_back(h.blob_name());
      for (const auto& h : subtask.keyed_state()) {
        out.handles[h.blob_name()] = {h.size_bytes(), h.checksum()};
      }
      if (subtask.keyed_state_size() == 1) {
        out.keyed_digests[subtask.keyed_state(0).blob_name()] = subtask.state_digest();
      }
      for (const auto& h : subtask.operator_state()) {
        out.handles[h.blob_name()] = {h.size_bytes(), h.checksum()};
      }
      for (const auto& h : subtask.shared_state()) {
        out.handles[h.blob_name()] = {h.size_bytes(), h.checksum()};
      }
      for (const auto& h : subtask.input_channel_state()) {
        if (h.checksum() != 0) out.handles[h.blob_name()] = {h.size_bytes(), h.checksum()};
        out.channel_state.push_back({h.blob_name(), h.size_bytes(), h.checksum()});
      }
      for (const auto& h : subtask.output_channel_state()) {
        if (h.checksum() != 0) out.handles[h.blob_name()] = {h.size_bytes(), h.checksum()};
        out.channel_state.push_back({h.blob_name(), h.size_bytes(), h.checksum()});
      }
    }
  }
  return out;
}

BlobCheck CheckBlob(const std::string& blob, const std::vector<uint8_t>* stored,
                    const CheckpointBlobs& checkpoint) {
  BlobCheck check;
  check.blob = blob;
  auto handle = checkpoint.handles.find(blob);
  if (handle != checkpoint.handles.end()) {
    check.handle_known = true;
    check.expected_size = handle->second.first;
    check.expected_checksum = handle->second.second;
  }
  if (stored != nullptr) {
    check.present = true;
    check.stored_size = stored->size();
    check.stored_checksum = ChecksumOf(*stored);
  }
  return check;
}

int64_t Recording::InjectedOnBlob(std::string_view blob) const {
  int64_t effects = 0;
  for (const InjectedFault& f : faults) {
    if (IsBlobPoint(f.point) && f.target == blob) effects |= f.effect;
  }
  return effects;
}

RunRecorder::RunRecorder(sim::JobWorld& jw)
    : jw_(jw), pointer_key_(engine::HaPointerKey(jw.setup())) {}

void RunRecorder::OnRecord(const sim::TraceRecord& r) {
  switch (r.kind) {
    case sim::TraceKind::kEngine:
      OnEngine(r);
      return;
    case sim::TraceKind::kServiceRequest:
      OnRequest(r);
      return;
    case sim::TraceKind::kServiceReply:
      OnReply(r);
      return;
    case sim::TraceKind::kFaultInjected: {
      InjectedFault f;
      f.time = r.time;
      f.node = r.node;
      f.point = static_cast<sim::FaultPoint>(r.args[0]);
      f.effect = r.args[1];
      f.delay = Duration::Nanos(r.args[3]);
      const size_t at = r.detail.find(" @ ");
      f.name = r.detail.substr(0, at);
      if (at != std::string::npos) f.target = r.detail.substr(at + 3);
      recording_.faults.push_back(std::move(f));
      return;
    }
    case sim::TraceKind::kNodeCrash:
    case sim::TraceKind::kNodeRestart:
    case sim::TraceKind::kNodePause:
    case sim::TraceKind::kNodeResume:
    case sim::TraceKind::kClockSet:
    case sim::TraceKind::kPartition:
    case sim::TraceKind::kHeal:
    case sim::TraceKind::kDiskLost:
      recording_.nodes.push_back(NodeEvent{
          r.time, r.node, r.kind, r.detail,
          r.kind == sim::TraceKind::kPartition || r.kind == sim::TraceKind::kHeal ? r.args[0] : 0});
      return;
    default:
      return;
  }
}

void RunRecorder::OnEngine(const sim::TraceRecord& r) {
  const auto event = static_cast<engine::EngineEvent>(r.args[0]);
  EngineEventRecord e{r.time,
                      r.node,
                      r.incarnation,
                      event,
                      engine::ReadEventArgs(event, r.args[1], r.args[2], r.args[3]),
                      r.detail};
  switch (e.event) {
    case engine::EngineEvent::kDeployed:
      attempt_ = static_cast<uint64_t>(e.args.attempt.value());
      generation_ = static_cast<uint32_t>(e.args.generation.value());
      recording_.deployments.push_back(RestoreRecord{
          e.time, "", attempt_, static_cast<uint64_t>(e.args.restored_checkpoint.value()),
          PointerLatest(), static_cast<uint32_t>(e.args.generation.value())});
      break;
    case engine::EngineEvent::kRestoreStarted:
      recording_.restores.push_back(RestoreRecord{e.time, e.detail, attempt_,
                                                  static_cast<uint64_t>(e.args.checkpoint.value()),
                                                  PointerLatest()});
      break;
    case engine::EngineEvent::kRestoreFinished:
      CheckRestoreFinished(e);
      break;
    default:
      break;
  }
  recording_.events.push_back(std::move(e));
}

void RunRecorder::OnRequest(const sim::TraceRecord& r) {
  const auto service = static_cast<sim::Service>(r.args[0]);
  const auto op = static_cast<sim::ServiceOp>(r.args[1]);
  if (service == sim::Service::kBlobStore && op == sim::ServiceOp::kGet) {
    if (CheckpointOfBlob(r.detail) == 0 || r.detail.ends_with("/_metadata")) return;
    BlobRead read;
    read.requested = r.time;
    read.node = r.node;
    read.attempt = attempt_;
    read.blob = r.detail;
    read.checkpoint = CheckpointOfBlob(r.detail);
    open_reads_[static_cast<uint64_t>(r.args[2])] = recording_.reads.size();
    recording_.reads.push_back(std::move(read));
    return;
  }
  if (service == sim::Service::kBlobStore) {
    if (op != sim::ServiceOp::kPut && op != sim::ServiceOp::kDelete) return;
  } else if (service == sim::Service::kOutputStore) {
    if (op == sim::ServiceOp::kAppend || op == sim::ServiceOp::kUpsert) return;
  } else {
    return;
  }
  ServiceCall call;
  call.service = service;
  call.op = op;
  call.request = static_cast<uint64_t>(r.args[2]);
  call.node = r.node;
  call.incarnation = r.incarnation;
  call.target = r.detail;
  call.requested = r.time;
  call.attempt = attempt_;
  if (service == sim::Service::kOutputStore) {
    // The caller's own attempt: the writer epoch its call carries (side channel).
    if (std::optional<uint64_t> epoch = jw_.world().output_store().EpochOfRequest()) {
      call.attempt = *epoch;
    }
  }
  if (service == sim::Service::kBlobStore) CheckRetainedTouch(call);
  open_calls_[{r.args[0], call.request}] = recording_.calls.size();
  recording_.calls.push_back(std::move(call));
}

void RunRecorder::OnReply(const sim::TraceRecord& r) {
  if (static_cast<sim::Service>(r.args[0]) == sim::Service::kHaStore &&
      static_cast<sim::ServiceOp>(r.args[1]) == sim::ServiceOp::kCompareAndSet &&
      static_cast<StatusCode>(r.args[3]) == StatusCode::kOk && r.detail == pointer_key_) {
    OnPointerWritten(r.time);
    return;
  }
  if (static_cast<sim::Service>(r.args[0]) == sim::Service::kBlobStore &&
      static_cast<sim::ServiceOp>(r.args[1]) == sim::ServiceOp::kGet) {
    auto read = open_reads_.find(static_cast<uint64_t>(r.args[2]));
    if (read == open_reads_.end()) return;
    OnReadReply(recording_.reads[read->second], r);
    open_reads_.erase(read);
    return;
  }
  auto it = open_calls_.find({r.args[0], static_cast<uint64_t>(r.args[2])});
  if (it == open_calls_.end()) return;
  ServiceCall& call = recording_.calls[it->second];
  call.applied = r.time;
  call.code = static_cast<StatusCode>(r.args[3]);
  open_calls_.erase(it);
}

void RunRecorder::OnReadReply(BlobRead& read, const sim::TraceRecord& r) {
  read.replied = r.time;
  read.code = static_cast<StatusCode>(r.args[3]);
  if (!read.ok() || !read.blob.ends_with("/keyed")) return;
  // The store replies with the object it holds now (a Get corrupted in transit differs; the
  // engine's checksum check refuses that copy, and the store still holds the right one).
  const runtime::Bytes* stored = jw_.world().blob_store().Peek(read.blob);
  if (stored == nullptr) {
    read.decode_error = "absent from the store at the reply";
    return;
  }
  Bytes resolved;
  if (IsIncrementalHandle(*stored)) {
    // Incremental state: the restore reads the shared files beside it, as stored now.
    const sim::BlobStoreSim& store = jw_.world().blob_store();
    Result<Bytes> blob = KeyedBlobOfIncremental(
        *stored, read.blob,
        [&store](const std::string& name, uint64_t, uint64_t) { return store.Peek(name); });
    if (!blob.ok()) {
      read.decode_error = blob.status().ToString();
      return;
    }
    resolved = std::move(*blob);
    stored = &resolved;
  }
  Result<DecodedBlob> decoded = DecodeKeyedBlob(*stored, read.blob);
  if (!decoded.ok()) {
    read.decode_error = decoded.status().ToString();
    return;
  }
  read.digest = StateDigestOf(decoded->entries);
}

uint64_t RunRecorder::PointerLatest() {
  const runtime::VersionedValue value = jw_.world().ha_store().Peek(pointer_key_);
  if (value.version == 0) return 0;
  Result<engine::proto::HaPointer> pointer = ReadHaPointer(value.value, pointer_key_);
  if (!pointer.ok()) {
    recording_.notes.push_back("HA pointer unreadable: " + pointer.status().ToString());
    return 0;
  }
  return pointer->latest_completed_checkpoint_id();
}

namespace {

// Adds the offsets of one ".../source" blob (as sent) to `c`, or unsets them when it is
// unreadable.
void ReadSourceOffsets(const runtime::Bytes* stored, CompletionRecord& c) {
  if (!c.source_offsets) return;
  if (stored == nullptr) {
    c.source_offsets.reset();
    return;
  }
  Result<std::vector<engine::SourceCursorState>> cursors = engine::DecodeSourceState(*stored);
  if (!cursors.ok()) {
    c.source_offsets.reset();
    return;
  }
  for (const engine::SourceCursorState& cursor : *cursors) {
    (*c.source_offsets)[cursor.partition] = cursor.offset;
  }
}

}  // namespace

namespace {

// The provenance hashes of the records the channel state persisted that reflect exactly one
// source record, sorted; nullopt when a blob is unknown or does not decode. A record reflecting
// none or several (a flat_map's later copy, an aggregate) names no source record to emit again:
// EO-OUT judges such records after a fallback by the reference before it.
std::optional<std::vector<uint64_t>> InFlightOf(
    const SentBlobs& sent, const std::vector<CheckpointBlobs::ChannelState>& blobs) {
  std::vector<uint64_t> out;
  for (const CheckpointBlobs::ChannelState& b : blobs) {
    engine::proto::ChannelStateHandle h;
    h.set_blob_name(b.blob);
    h.set_size_bytes(b.size);
    h.set_checksum(b.checksum);
    Result<std::vector<std::pair<uint32_t, engine::Record>>> records = ChannelStateRecords(sent, h);
    if (!records.ok()) return std::nullopt;
    for (const auto& [channel, record] : *records) {
      if (record.provenance.count == 1) out.push_back(record.provenance.hash_sum);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void RunRecorder::OnPointerWritten(Time time) {
  // The reply is recorded right after the store applied the write, whether or not the caller is
  // still alive to receive it: the pointer now names the completed checkpoint.
  const runtime::VersionedValue value = jw_.world().ha_store().Peek(pointer_key_);
  Result<engine::proto::HaPointer> pointer = ReadHaPointer(value.value, pointer_key_);
  if (!pointer.ok()) {
    recording_.notes.push_back("HA pointer written at t=" + std::to_string(time.nanos()) +
                               "ns is unreadable: " + pointer.status().ToString());
    return;
  }
  std::vector<uint64_t> retained;
  for (const std::string& name : pointer->retained_metadata_blobs()) {
    if (const uint64_t id = CheckpointOfBlob(name); id != 0) retained.push_back(id);
  }
  if (retained.empty()) retained.push_back(pointer->latest_completed_checkpoint_id());
  std::sort(retained.begin(), retained.end());
  CheckCompletion(pointer->latest_completed_checkpoint_id(), pointer->latest_metadata_blob(), time,
                  std::move(retained));
}

Result<CheckpointBlobs> RunRecorder::ReadMetadata(const std::string& name,
                                                  std::string* stored_error, bool* as_sent) {
  const sim::BlobStoreSim& store = jw_.world().blob_store();
  const runtime::Bytes* stored = store.Peek(name);
  Result<CheckpointBlobs> blobs =
      DataLossError("checkpoint metadata blob " + name + " was never sent whole");
  if (stored != nullptr) {
    blobs = ReadCheckpointBlobs(*stored, name);
    if (blobs.ok()) return blobs;
    if (stored_error != nullptr) *stored_error = blobs.status().ToString();
  }
  // Lost, deleted, or altered by a fault: what the engine sent (the only put of this name, as
  // checkpoint ids are never reused; its trailer checksum proves it whole).
  const runtime::Bytes* sent = SentBlobs(&store.objects(), &store.history()).Find(name, 0, 0);
  if (sent == nullptr || sent == stored) return blobs;
  blobs = ReadCheckpointBlobs(*sent, name);
  if (as_sent != nullptr) *as_sent = blobs.ok();
  return blobs;
}

void RunRecorder::CheckCompletion(uint64_t checkpoint, const std::string& metadata_blob, Time time,
                                  std::vector<uint64_t> retained) {
  CompletionRecord c;
  c.checkpoint = checkpoint;
  c.retained = std::move(retained);
  c.time = time;
  c.metadata_blob = metadata_blob;
  c.metadata_present = jw_.world().blob_store().Peek(metadata_blob) != nullptr;
  Result<CheckpointBlobs> blobs =
      ReadMetadata(metadata_blob, &c.metadata_error, &c.metadata_read_as_sent);
  if (blobs.ok()) RecordCheckpointBlobs(*blobs, c);
  recording_.completions.push_back(std::move(c));
}

void RunRecorder::RecordCheckpointBlobs(const CheckpointBlobs& blobs, CompletionRecord& c) {
  const sim::BlobStoreSim& store = jw_.world().blob_store();
  const SentBlobs sent_blobs(&store.objects(), &store.history());
  c.metadata_decoded = true;
  c.source_offsets.emplace();
  c.recorded_digests = blobs.keyed_digests;
  for (const std::string& blob : blobs.referenced) {
    c.blobs.push_back(CheckBlob(blob, store.Peek(blob), blobs));
    // What the engine sent, even when an injected fault altered or lost it in the store.
    const runtime::Bytes* sent =
        sent_blobs.Find(blob, c.blobs.back().expected_checksum, c.blobs.back().expected_size);
    if (blob.ends_with("/source")) ReadSourceOffsets(sent, c);
    if (!blob.ends_with("/sink")) continue;
    if (sent == nullptr) {  // never sent whole: missing, or fails its checksum
      c.unreadable_sink_blobs.push_back(blob);
      continue;
    }
    Result<std::vector<engine::PendingTransaction>> pending = engine::DecodeSinkState(*sent);
    if (!pending.ok()) {
      c.unreadable_sink_blobs.push_back(blob);
      continue;
    }
    for (engine::PendingTransaction& p : *pending) c.pending.push_back(std::move(p));
  }
  c.in_flight = InFlightOf(sent_blobs, blobs.channel_state);
}

void RunRecorder::CheckRestoreFinished(const EngineEventRecord& e) {
  RestoreFinishedRecord f;
  f.time = e.time;
  f.task = e.detail;
  f.checkpoint = static_cast<uint64_t>(e.args.checkpoint.value());
  f.digest_restored = static_cast<uint64_t>(e.args.restored_digest.value());
  f.digest_recorded = static_cast<uint64_t>(e.args.recorded_digest.value());
  const sim::BlobStoreSim& store = jw_.world().blob_store();
  // The engine restores from the handles it holds; the metadata it wrote names the same blobs,
  // so a lost or deleted metadata blob is read as sent. A resumed job restores a savepoint.
  std::string metadata_blob = engine::MetadataBlobName(f.checkpoint);
  std::string directory = "checkpoints/chk-" + std::to_string(f.checkpoint);
  Result<CheckpointBlobs> blobs = ReadMetadata(metadata_blob, nullptr, nullptr);
  if (!blobs.ok()) {
    Result<CheckpointBlobs> savepoint =
        ReadMetadata(engine::SavepointMetadataBlobName(f.checkpoint), nullptr, nullptr);
    if (savepoint.ok()) {
      blobs = std::move(savepoint);
      directory = engine::SavepointDirectory(f.checkpoint);
    }
  }
  if (blobs.ok() && blobs->generation != generation_) {
    for (const std::string& blob : RestoredAtOtherParallelism(*blobs, f.task)) {
      f.blobs.push_back(CheckBlob(blob, store.Peek(blob), *blobs));
    }
  } else if (blobs.ok()) {
    const std::string prefix = directory + "/" + f.task + "/";
    for (const std::string& blob : blobs->referenced) {
      if (blob.starts_with(prefix)) f.blobs.push_back(CheckBlob(blob, store.Peek(blob), *blobs));
    }
  } else {
    recording_.notes.push_back("restore of " + f.task + " from checkpoint " +
                               std::to_string(f.checkpoint) + ": " + blobs.status().ToString());
  }
  recording_.restores_finished.push_back(std::move(f));
}

std::vector<std::string> RunRecorder::RestoredAtOtherParallelism(const CheckpointBlobs& blobs,
                                                                 const std::string& task) const {
  // The checkers' own statement of the redistribution (docs/engine.md, Rescaling), from the
  // task's place in its attempt's plan and the checkpoint's recorded handles.
  std::vector<std::string> out;
  const engine::JobSetup& setup = jw_.setup();
  if (generation_ >= setup.generations()) return out;
  const engine::ExecutionPlan& plan = setup.PlanOf(generation_);
  auto spec = std::find_if(plan.tasks.begin(), plan.tasks.end(),
                           [&task](const engine::TaskSpec& t) { return t.name == task; });
  if (spec == plan.tasks.end()) return out;
  const engine::ChainSpec& chain = plan.chains[spec->chain];
  const engine::JobGraph& job = setup.JobOf(generation_);
  GroupRange own;
  for (uint32_t op = chain.first_operator; op <= chain.last_operator; ++op) {
    if (job.operators[op].kind == engine::OperatorKind::kKeyedProcess) {
      own = GroupsOfSubtask(spec->subtask, chain.parallelism, job.operators[op].max_parallelism);
    }
  }
  for (const CheckpointBlobs::SubtaskHandles& sub : blobs.subtasks) {
    if (sub.op != chain.name) continue;
    for (const CheckpointBlobs::SubtaskHandles::Keyed& k : sub.keyed) {
      if (k.first_group <= k.last_group && !own.empty() && k.first_group <= own.last &&
          own.first <= k.last_group) {
        out.push_back(k.blob);
      }
    }
    for (const std::string& blob : sub.operator_state) {
      if (blob.ends_with("/source") ||
          (blob.ends_with("/sink") && sub.subtask % chain.parallelism == spec->subtask)) {
        out.push_back(blob);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void RunRecorder::CheckRetainedTouch(const ServiceCall& call) {
  const runtime::VersionedValue value = jw_.world().ha_store().Peek(pointer_key_);
  if (value.version != retained_version_) {
    retained_version_ = value.version;
    retained_.clear();
    if (value.version != 0) {
      Result<engine::proto::HaPointer> pointer = ReadHaPointer(value.value, pointer_key_);
      if (pointer.ok()) {
        std::vector<std::string> metadata_blobs(pointer->retained_metadata_blobs().begin(),
                                                pointer->retained_metadata_blobs().end());
        if (metadata_blobs.empty()) metadata_blobs.push_back(pointer->latest_metadata_blob());
        for (const std::string& name : metadata_blobs) {
          // A retained checkpoint whose metadata a fault lost still references its blobs (the
          // JobManager restores from the handles it holds): read as sent. DUR judges a missing
          // one at the end of the run.
          Result<CheckpointBlobs> blobs = ReadMetadata(name, nullptr, nullptr);
          if (!blobs.ok()) continue;
          retained_[name] = blobs->checkpoint;
          for (const std::string& blob : blobs->referenced) retained_[blob] = blobs->checkpoint;
        }
      }
    }
  }
  auto it = retained_.find(call.target);
  if (it == retained_.end()) return;
  recording_.retained_touches.push_back(
      RetainedBlobTouch{call.requested, call.op, call.target, it->second, call.node});
}

}  // namespace faultline::checkers
