// The run recorder: a trace observer that keeps, as plain data, what the checkers need that the
// final state of a run does not show (engine events, blob and output-store calls with their
// times and replies, injected faults, node crashes and restarts), plus what the simulated stores
// held at a few moments: at each checkpoint completion (are the blobs its metadata references
// stored, whole?), at each deployment and restore (what did the HA pointer name?), and at each
// blob put or delete (does a retained checkpoint reference that blob?).
//
// It observes only. Its reads of the stores are side-channel reads (Peek), which draw no random
// number and record nothing, so installing it never changes the trace or its hash. Install it on
// jw.world().trace() before jw.Start(); remove it (or keep it alive) until the run is over.
//
// Everything it keeps is a public field of Recording, so a test can alter a real run's record
// after the fact (drop a blob, flip a digest) and prove a checker notices.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "engine/exec/events.h"
#include "engine/exec/snapshot.h"
#include "simulator/fault_points.h"
#include "simulator/job_world.h"
#include "simulator/trace.h"

namespace faultline::checkers {

struct EngineEventRecord {
  Time time;
  uint32_t node = 0;
  uint32_t incarnation = 0;
  engine::EngineEvent event = engine::EngineEvent::kBarrierEmitted;
  engine::EventArgs args;  // by name (engine/exec/events.h)
  std::string detail;
};

// A kFaultInjected record: point, effect bits (sim::kEffect*), its name and target.
struct InjectedFault {
  Time time;
  uint32_t node = 0;
  sim::FaultPoint point = sim::FaultPoint::kNetSend;
  int64_t effect = 0;
  Duration delay;
  std::string name;
  std::string target;  // blob name, key, path or transaction; empty for network points
};

// Crash, restart, pause, resume, clock change, partition or heal.
struct NodeEvent {
  Time time;
  uint32_t node = 0;
  sim::TraceKind kind = sim::TraceKind::kNodeCrash;
  std::string detail;
  int64_t partition = 0;  // kPartition, kHeal: the partition's id (node is kNoNode)
};

// One blob-store put or delete, or one output-store operation (not appends or upserts).
struct ServiceCall {
  sim::Service service = sim::Service::kBlobStore;
  sim::ServiceOp op = sim::ServiceOp::kPut;
  uint64_t request = 0;
  uint32_t node = 0;
  uint32_t incarnation = 0;
  std::string target;  // blob name, transaction, or writer (fence)
  Time requested;
  // The attempt that made the call: for an output-store call the writer epoch it carries (the
  // sink's attempt, read through OutputStoreSim::EpochOfRequest), so a zombie's call is its
  // own; for a blob-store call the newest attempt deployed when it was requested (0: none yet).
  uint64_t attempt = 0;
  std::optional<Time> applied;  // when the service applied it (its reply was recorded)
  StatusCode code = StatusCode::kOk;
  bool ok() const { return applied.has_value() && code == StatusCode::kOk; }
};

// A blob-store Get of a checkpoint's state blob (any "checkpoints/chk-<n>/" blob but the
// metadata): what a restore actually read, whatever the engine says it restored.
struct BlobRead {
  Time requested;
  std::optional<Time> replied;
  uint32_t node = 0;
  uint64_t attempt = 0;  // the newest attempt deployed when it was requested (0: none yet)
  std::string blob;
  uint64_t checkpoint = 0;  // from the blob's name
  StatusCode code = StatusCode::kOk;
  // A keyed blob read successfully: the checkers' own digest (checkers/blob_reader.h) of the
  // bytes the store held when it replied (a side-channel read), or why they do not decode.
  std::optional<uint64_t> digest;
  std::string decode_error;
  bool ok() const { return replied.has_value() && code == StatusCode::kOk; }
};

// A blob as the blob store held it at one moment, against the handle that names it.
struct BlobCheck {
  std::string blob;
  bool present = false;
  bool handle_known = false;  // the metadata has a handle with size and checksum for it
  uint64_t expected_size = 0;
  uint64_t expected_checksum = 0;
  uint64_t stored_size = 0;
  uint64_t stored_checksum = 0;
  bool intact() const {
    return present && (!handle_known ||
                       (stored_size == expected_size && stored_checksum == expected_checksum));
  }
};

// At each write of the HA pointer (the moment a checkpoint completes, ORACLES.md), whether or not
// the JobManager lived to learn of it: the metadata blob and every blob it references.
struct CompletionRecord {
  uint64_t checkpoint = 0;
  Time time;  // when the HA store applied the pointer write
  std::string metadata_blob;
  bool metadata_present = false;  // stored at that moment
  std::string metadata_error;     // set when the stored copy did not decode
  // The metadata's content is known (everything below is read from it): the stored copy, or,
  // when it was lost or altered, the bytes as the engine sent them (the tombstone view).
  bool metadata_decoded = false;
  bool metadata_read_as_sent = false;
  std::vector<BlobCheck> blobs;
  // The two-phase-commit sinks' pending transactions (their ".../sink" blobs).
  std::vector<engine::PendingTransaction> pending;
  // Sink blobs whose bytes as the engine sent them are unknown (never stored whole, and no
  // matching version in the tombstone view), or do not decode.
  std::vector<std::string> unreadable_sink_blobs;
  // The source offsets the checkpoint recorded (partition -> next offset), read from its
  // ".../source" blobs at completion; unset when one of them was missing or did not decode.
  std::optional<std::map<uint32_t, uint64_t>> source_offsets;
  // Keyed blob -> the state digest the metadata records for its subtask (captured state).
  std::map<std::string, uint64_t, std::less<>> recorded_digests;
  // The records the checkpoint persisted in flight (unaligned channel state, as the engine sent
  // it) that reflect exactly one source record, by provenance hash, sorted: a restore of this
  // checkpoint replays them. Unset when a channel-state blob is unknown or does not decode.
  std::optional<std::vector<uint64_t>> in_flight;
  // The checkpoints this pointer write names as retained (what a recovery may fall back to),
  // ascending; the checkpoint itself when the pointer lists none.
  std::vector<uint64_t> retained;
};

// At a deployed event, or a task's restore-started: what the HA pointer named at that moment.
struct RestoreRecord {
  Time time;
  std::string task;             // empty for a deployment
  uint64_t attempt = 0;         // deployments
  uint64_t checkpoint = 0;      // restored (0: from the beginning of the input)
  uint64_t pointer_latest = 0;  // the HA pointer's latest completed checkpoint (0: none)
  uint32_t generation = 0;      // deployments: the plan generation (JobSetup::rescaled)
};

// At a restore-finished event: the digests, and the task's blobs as stored at that moment.
struct RestoreFinishedRecord {
  Time time;
  std::string task;
  uint64_t checkpoint = 0;
  uint64_t digest_restored = 0;
  uint64_t digest_recorded = 0;
  std::vector<BlobCheck> blobs;
};

// A put or delete of a blob that a retained checkpoint referenced when it was requested.
struct RetainedBlobTouch {
  Time time;
  sim::ServiceOp op = sim::ServiceOp::kDelete;
  std::string blob;
  uint64_t checkpoint = 0;  // the retained checkpoint referencing it
  uint32_t node = 0;
};

struct Recording {
  std::vector<EngineEventRecord> events;
  std::vector<InjectedFault> faults;
  std::vector<NodeEvent> nodes;
  std::vector<ServiceCall> calls;
  std::vector<BlobRead> reads;
  std::vector<CompletionRecord> completions;
  std::vector<RestoreRecord> deployments;
  std::vector<RestoreRecord> restores;
  std::vector<RestoreFinishedRecord> restores_finished;
  std::vector<RetainedBlobTouch> retained_touches;
  std::vector<std::string> notes;  // what the recorder could not read (kept, not judged)

  // Effects (sim::kEffect* bits) injected on a blob, over every blob-store fault point.
  int64_t InjectedOnBlob(std::string_view blob) const;
};

// The blobs a checkpoint's metadata names: every referenced blob, and the size and checksum of
// those it has a handle for.
struct CheckpointBlobs {
  uint64_t checkpoint = 0;
  std::vector<std::string> referenced;
  std::map<std::string, std::pair<uint64_t, uint64_t>, std::less<>> handles;  // size, checksum
  // Keyed blob -> its subtask's recorded state digest (subtasks with one keyed blob).
  std::map<std::string, uint64_t, std::less<>> keyed_digests;
  // The channel-state blobs (unaligned checkpoints: the records in flight at the barrier), with
  // their handles' size and checksum (0: none recorded).
  struct ChannelState {
    std::string blob;
    uint64_t size = 0;
    uint64_t checksum = 0;
  };
  std::vector<ChannelState> channel_state;
  // The plan generation that took it, and each subtask's handles (what a restore at another
  // parallelism is attributed by: keyed by key-group overlap, source by union, sink by modulo).
  uint32_t generation = 0;
  struct SubtaskHandles {
    std::string op;  // the chain's name, as the metadata's operator_id
    uint32_t subtask = 0;
    struct Keyed {
      std::string blob;
      uint32_t first_group = 1;  // as the metadata records it; empty: unknown
      uint32_t last_group = 0;
    };
    std::vector<Keyed> keyed;  // keyed and shared handles
    std::vector<std::string> operator_state;
  };
  std::vector<SubtaskHandles> subtasks;
};
// DataLoss naming `name` when the metadata does not decode.
Result<CheckpointBlobs> ReadCheckpointBlobs(const std::vector<uint8_t>& metadata,
                                            std::string_view name);
// `stored` is the blob's bytes in the store, or null when it is absent.
BlobCheck CheckBlob(const std::string& blob, const std::vector<uint8_t>* stored,
                    const CheckpointBlobs& checkpoint);
// The checkpoint id in a blob name "checkpoints/chk-<n>/..." or the savepoint id in
// "savepoints/sp-<n>/..." (ids are unique across both), or 0.
uint64_t CheckpointOfBlob(std::string_view blob);

class RunRecorder : public sim::TraceObserver {
 public:
  // `jw` must outlive the recorder's observation.
  explicit RunRecorder(sim::JobWorld& jw);

  void OnRecord(const sim::TraceRecord& record) override;

  const Recording& recording() const { return recording_; }

 private:
  void OnEngine(const sim::TraceRecord& r);
  void OnRequest(const sim::TraceRecord& r);
  void OnReply(const sim::TraceRecord& r);
  void OnReadReply(BlobRead& read, const sim::TraceRecord& r);
  void OnPointerWritten(Time time);
  void CheckCompletion(uint64_t checkpoint, const std::string& metadata_blob, Time time,
                       std::vector<uint64_t> retained);
  void RecordCheckpointBlobs(const CheckpointBlobs& blobs, CompletionRecord& c);
  // The content of metadata blob `name`: the stored copy, or, when it is absent or does not
  // decode, the bytes as the engine sent them (tombstone view). `stored_error` (may be null) gets
  // why the stored copy did not decode; `as_sent` (may be null) whether the sent bytes were used.
  Result<CheckpointBlobs> ReadMetadata(const std::string& name, std::string* stored_error,
                                       bool* as_sent);
  void CheckRestoreFinished(const EngineEventRecord& e);
  // The blobs of `blobs` (a checkpoint of another plan generation) that task `task` of the
  // current attempt restores.
  std::vector<std::string> RestoredAtOtherParallelism(const CheckpointBlobs& blobs,
                                                      const std::string& task) const;
  void CheckRetainedTouch(const ServiceCall& call);
  uint64_t PointerLatest();

  sim::JobWorld& jw_;
  std::string pointer_key_;
  Recording recording_;
  uint64_t attempt_ = 0;
  uint32_t generation_ = 0;  // of attempt_
  // (service, request) -> index in calls.
  std::map<std::pair<int64_t, uint64_t>, size_t> open_calls_;
  std::map<uint64_t, size_t> open_reads_;  // blob-store request -> index in reads
  // Retained blobs by HA pointer version: blob -> checkpoint referencing it.
  uint64_t retained_version_ = UINT64_MAX;
  std::map<std::string, uint64_t, std::less<>> retained_;
};

}  // namespace faultline::checkers
