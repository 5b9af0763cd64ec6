#include "checkers/markers.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "checkers/degradation.h"

namespace faultline::checkers {
namespace {

// The engine refused checkpoint data as data loss: a restoring task found a blob that does not
// match its checkpoint's checksum or length, or that does not decode ("restoring <blob>"), and
// the job manager's restart, unreadable-checkpoint report or job failure quotes it. (The
// simulated blob store never checks what it returns: the engine's check is the one to count.)
bool RefusedAsDataLoss(std::string_view detail) {
  if (detail.find("DATA_LOSS: ") == std::string_view::npos) return false;
  return detail.find("checkpoint's checksum") != std::string_view::npos ||
         detail.find(" restoring checkpoints/") != std::string_view::npos;
}

using engine::EngineEvent;

struct MarkerRow {
  Marker marker;
  std::string_view name;
  std::string_view what;
};

constexpr std::array kRows = {
#define FAULTLINE_MARKER_ROW(e, name, what) MarkerRow{Marker::e, name, what},
    FAULTLINE_MARKERS(FAULTLINE_MARKER_ROW)
#undef FAULTLINE_MARKER_ROW
};

uint64_t CheckpointOf(const EngineEventRecord& e) {
  return e.args.checkpoint ? static_cast<uint64_t>(*e.args.checkpoint) : 0;
}

// The checkpoint coordinator's view: triggers, completions, aborts, deferrals.
void CoordinatorMarkers(const RunRecord& run, Markers& out) {
  const Recording& rec = run.recording;
  const Duration interval = run.view.setup->config.checkpoints.interval;
  std::set<uint64_t> pending;
  std::optional<Time> last_trigger;  // the previous periodic trigger of the same JobManager run
  size_t node_event = 0;
  for (const EngineEventRecord& e : rec.events) {
    // A JobManager crash or pause drops what it had in flight and breaks the trigger cadence.
    for (; node_event < rec.nodes.size() && rec.nodes[node_event].time <= e.time; ++node_event) {
      if (rec.nodes[node_event].node == 0) {
        pending.clear();
        last_trigger.reset();
      }
    }
    switch (e.event) {
      case EngineEvent::kTriggered:
        if (!pending.empty()) out.set(Marker::kConcurrentCheckpoints);
        pending.insert(CheckpointOf(e));
        if (e.args.final.value_or(0) == 1) {
          out.set(Marker::kFinalCheckpoint);
          last_trigger.reset();
          break;
        }
        if (last_trigger && (e.time - *last_trigger) * 2 > interval * 3) {
          out.set(Marker::kTriggerDeferred);
        }
        last_trigger = e.time;
        break;
      case EngineEvent::kPointerMoved:
        out.set(Marker::kCheckpointCompleted);
        if (e.args.late.value_or(0) == 1) out.set(Marker::kLateCompletion);
        pending.erase(CheckpointOf(e));
        break;
      case EngineEvent::kCheckpointAborted:
        out.set(Marker::kCheckpointAborted);
        pending.erase(CheckpointOf(e));
        break;
      case EngineEvent::kJobRestart:
        out.set(Marker::kJobRestarted);
        if (RefusedAsDataLoss(e.detail)) out.set(Marker::kChecksumMismatch);
        last_trigger.reset();
        break;
      case EngineEvent::kJobFinished:
        if (RefusedAsDataLoss(e.detail)) out.set(Marker::kChecksumMismatch);
        break;
      case EngineEvent::kCheckpointUnreadable:
        if (e.args.fallback.value_or(0) > 0) out.set(Marker::kCheckpointFallback);
        if (RefusedAsDataLoss(e.detail)) out.set(Marker::kChecksumMismatch);
        break;
      default:
        break;
    }
  }
}

// The tasks' view: alignment, channel state, declines, cancel markers.
void TaskMarkers(const Recording& rec, Markers& out) {
  // Per task incarnation (node, incarnation, task): the checkpoints whose barriers arrived and
  // which are neither aligned, timed out, declined nor cancelled yet, and the newest one that is
  // (a barrier at or below it is a stale one the task ignores).
  struct Alignments {
    std::set<uint64_t> open;
    uint64_t closed = 0;
  };
  std::map<std::tuple<uint32_t, uint32_t, std::string>, Alignments> tasks;
  for (const EngineEventRecord& e : rec.events) {
    const uint64_t c = CheckpointOf(e);
    auto key = [&] { return std::make_tuple(e.node, e.incarnation, e.detail); };
    auto close = [&] {
      Alignments& a = tasks[key()];
      a.open.erase(a.open.begin(), a.open.upper_bound(c));
      a.closed = std::max(a.closed, c);
    };
    switch (e.event) {
      case EngineEvent::kBarrierReceived: {
        Alignments& a = tasks[key()];
        if (c <= a.closed) break;
        if (!a.open.empty() && *a.open.begin() < c) out.set(Marker::kBarrierDuringAlignment);
        a.open.insert(c);
        break;
      }
      case EngineEvent::kAligned:
      case EngineEvent::kAlignmentTimedOut:
      case EngineEvent::kCancelMarkerReceived: {
        close();
        if (e.event == EngineEvent::kAlignmentTimedOut) out.set(Marker::kAlignmentTimedOut);
        if (e.event != EngineEvent::kCancelMarkerReceived &&
            e.args.in_flight_buffers.value_or(0) > 0) {
          out.set(Marker::kChannelStatePersisted);
        }
        break;
      }
      case EngineEvent::kChannelStateReplayed:
        out.set(Marker::kChannelStateRestored);
        break;
      case EngineEvent::kDeployed:
        // A new attempt: every task starts over (on surviving nodes under the same incarnation).
        for (auto& [task, a] : tasks) a.open.clear();
        break;
      case EngineEvent::kCheckpointDeclined:
        out.set(Marker::kCheckpointDeclined);
        close();
        break;
      case EngineEvent::kCancelMarkerSent:
        out.set(Marker::kCancelMarker);
        break;
      case EngineEvent::kTransactionExpired:
        out.set(Marker::kTransactionExpired);
        break;
      default:
        break;
    }
  }
}

// The attempt in a transaction's name ".../attempt-<n>/txn-...", if any.
std::optional<uint64_t> AttemptOfTransaction(std::string_view txn) {
  constexpr std::string_view kTag = "/attempt-";
  const size_t at = txn.rfind(kTag);
  if (at == std::string_view::npos) return std::nullopt;
  const char* first = txn.data() + at + kTag.size();
  uint64_t attempt = 0;
  const auto [end, ec] = std::from_chars(first, txn.data() + txn.size(), attempt);
  if (ec != std::errc() || end == first) return std::nullopt;
  return attempt;
}

// Nodes, recoveries, services and faults.
void WorldMarkers(const Recording& rec, Markers& out) {
  std::optional<Time> job_manager_crash;
  for (const NodeEvent& n : rec.nodes) {
    if (n.kind != sim::TraceKind::kNodeCrash) continue;
    if (n.node == 0 && !job_manager_crash) job_manager_crash = n.time;
    if (n.node != 0) out.set(Marker::kTaskManagerCrashed);
  }
  for (const RestoreRecord& d : rec.deployments) {
    if (job_manager_crash && d.time > *job_manager_crash) out.set(Marker::kJobManagerFailover);
    if (d.checkpoint < d.pointer_latest) out.set(Marker::kRestoredOlderThanLatest);
  }
  for (const BlobRead& read : rec.reads) {
    if (read.replied && read.code == StatusCode::kDataLoss) out.set(Marker::kChecksumMismatch);
  }
  // A zombie is fenced when the store refuses its call after a newer attempt's call (its fence)
  // was applied. The calls are in request order, and a zombie's call was often requested before
  // its successor existed (delayed on its way to the store): compare the times they applied.
  std::map<uint64_t, Time> first_applied;  // attempt -> its first output-store call applied
  for (const ServiceCall& call : rec.calls) {
    if (call.service != sim::Service::kOutputStore || !call.applied) continue;
    auto [it, inserted] = first_applied.try_emplace(call.attempt, *call.applied);
    if (!inserted) it->second = std::min(it->second, *call.applied);
  }
  for (const ServiceCall& call : rec.calls) {
    if (call.service != sim::Service::kOutputStore) continue;
    if (call.applied && call.code == StatusCode::kAborted) {
      for (auto it = first_applied.upper_bound(call.attempt); it != first_applied.end(); ++it) {
        if (it->second <= *call.applied) out.set(Marker::kZombieFenced);
      }
    }
    if (call.ok() && call.op == sim::ServiceOp::kCommit) {
      const std::optional<uint64_t> by = AttemptOfTransaction(call.target);
      if (by && call.attempt > *by) out.set(Marker::kTransactionRecovered);
    }
  }
  // Node events (crashes, restarts, pauses, clock changes, partitions, lost disks) happen only
  // when a fault makes them.
  if (!rec.faults.empty() || !rec.nodes.empty()) out.set(Marker::kFaultHit);
  for (const InjectedFault& f : rec.faults) {
    if (f.point == sim::FaultPoint::kBlobPut && (f.effect & kDestroyingEffects) != 0) {
      out.set(Marker::kStorageDestroyed);
    }
  }
}

}  // namespace

std::string_view MarkerName(Marker marker) {
  return kRows[static_cast<size_t>(marker)].name;
}

std::string_view MarkerDescription(Marker marker) {
  return kRows[static_cast<size_t>(marker)].what;
}

std::optional<Marker> MarkerFromName(std::string_view name) {
  for (const MarkerRow& row : kRows) {
    if (row.name == name) return row.marker;
  }
  return std::nullopt;
}

std::vector<std::string_view> Markers::names() const {
  std::vector<std::string_view> out;
  for (Marker m : kAllMarkers) {
    if (has(m)) out.push_back(MarkerName(m));
  }
  return out;
}

Markers MarkersOf(const RunRecord& run) {
  Markers out;
  CoordinatorMarkers(run, out);
  TaskMarkers(run.recording, out);
  WorldMarkers(run.recording, out);
  return out;
}

}  // namespace faultline::checkers
