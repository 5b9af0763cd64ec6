// The fault plan and the nemesis of a generated case. Times are fractions of the source's run
// time (so a planned fault falls while the job runs), nodes and targets are indices resolved
// against the case's cluster and job, so every shrink of a case stays valid.
#include "search/generated_faults.h"

#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/assert.h"
#include "faults/fault_kinds.h"

namespace faultline::search {
namespace {

using faults::FaultKind;

// Engine events a generated trigger waits for: ones every run with checkpoints records.
struct TriggerEvent {
  const char* name;
  bool checkpoint_id;  // the trigger names checkpoint 1..3
  bool task;           // a task event (may name a subtask)
};
constexpr std::array<TriggerEvent, 8> kEvents = {{
    {"checkpoint-triggered", true, false},
    {"checkpoint-completed", false, false},
    {"all-acknowledged", false, false},
    {"metadata-written", false, false},
    {"notification-sent", false, false},
    {"snapshot-captured", false, true},
    {"ack-sent", false, true},
    {"uploaded", false, false},
}};

// The fault's (or trigger's) subtask: "<operator>#<i>".
std::string Subtask(const std::vector<FaultTarget>& targets, uint32_t target, uint32_t subtask) {
  const FaultTarget& t = targets[target % targets.size()];
  return t.name + "#" + std::to_string(subtask % std::max<uint32_t>(t.parallelism, 1));
}

void SetTrigger(const GeneratedCase& c, const std::vector<FaultTarget>& targets,
                const GenTrigger& t, proto::Trigger* out) {
  if (!t.on_event) {
    out->set_at(Ms(uint64_t{c.workload.source_ms} * std::min<uint32_t>(t.at_permille, 799) / 1000));
    return;
  }
  const TriggerEvent& e = kEvents[t.event % kEvents.size()];
  proto::EventTrigger* on = out->mutable_on();
  on->set_event(e.name);
  if (e.checkpoint_id) on->set_checkpoint(std::clamp<uint32_t>(t.checkpoint, 1, 3));
  if (e.task && t.named_subtask) on->set_subtask(Subtask(targets, t.target, t.subtask));
  if (!e.checkpoint_id) on->set_occurrence(std::clamp<uint32_t>(t.occurrence, 1, 3));
  if (t.delay_ms > 0) on->set_delay(Ms(t.delay_ms));
}

uint32_t TaskManager(const GeneratedCase& c, uint32_t node) {
  return 1 + node % std::clamp<uint32_t>(c.world.task_managers, 1, 5);
}
uint32_t AnyNode(const GeneratedCase& c, uint32_t node) {
  return node % (std::clamp<uint32_t>(c.world.task_managers, 1, 5) + 1);
}

void SetLink(const GeneratedCase& c, const GenFault& f, proto::Link* link) {
  const uint32_t nodes = std::clamp<uint32_t>(c.world.task_managers, 1, 5) + 1;
  const uint32_t a = f.node % nodes;
  uint32_t b = f.node_b % nodes;
  if (b == a) b = (a + 1) % nodes;
  link->set_a(a);
  link->set_b(b);
}

void SetScope(const GenFault& f, proto::Scope* scope) {
  if (f.scope_prefix % 2 == 1) scope->set_target_prefix("checkpoints/");
  scope->set_count(std::clamp<uint32_t>(f.scope_count, 1, 5));
  if (f.scope_duration_ms > 0) scope->set_duration(Ms(f.scope_duration_ms));
}

void SetPartition(const GeneratedCase& c, const GenFault& f, proto::NetworkPartition* p) {
  const uint32_t nodes = std::clamp<uint32_t>(c.world.task_managers, 1, 5) + 1;
  std::vector<uint32_t> a;
  std::vector<uint32_t> b;
  for (uint32_t n = 0; n < nodes; ++n) ((f.side_mask >> n) & 1 ? a : b).push_back(n);
  if (a.empty()) {
    a.push_back(b.front());
    b.erase(b.begin());
  }
  if (b.empty()) {
    b.push_back(a.back());
    a.pop_back();
  }
  for (uint32_t n : a) p->add_side_a(n);
  for (uint32_t n : b) p->add_side_b(n);
  if (f.heals) p->set_heal_after(Ms(f.duration_ms));
}

// The process faults: crashes, a failed task, a pause.
bool SetProcessFault(const GeneratedCase& c, const std::vector<FaultTarget>& targets,
                     FaultKind kind, const GenFault& f, proto::Fault* out) {
  switch (kind) {
    case FaultKind::kCrashTaskManager: {
      proto::CrashTaskManager* crash = out->mutable_crash_task_manager();
      crash->set_task_manager(TaskManager(c, f.node));
      if (f.never_restart)
        crash->set_never_restart(true);
      else
        crash->set_restart_after(Ms(f.restart_after_ms));
      crash->set_lose_disk(f.lose_disk);
      return true;
    }
    case FaultKind::kCrashJobManager:
      if (f.never_restart)
        out->mutable_crash_job_manager()->set_never_restart(true);
      else
        out->mutable_crash_job_manager()->set_restart_after(Ms(f.restart_after_ms));
      return true;
    case FaultKind::kFailTask:
      out->mutable_fail_task()->set_subtask(Subtask(targets, f.target, f.subtask));
      return true;
    case FaultKind::kPause:
      out->mutable_pause()->set_node(AnyNode(c, f.node));
      out->mutable_pause()->set_duration(Ms(f.duration_ms));
      return true;
    case FaultKind::kDiskUnsyncedLoss: {
      proto::DiskUnsyncedLoss* loss = out->mutable_disk_unsynced_loss();
      loss->set_node(TaskManager(c, f.node));
      if (f.never_restart)
        loss->set_never_restart(true);
      else
        loss->set_restart_after(Ms(f.restart_after_ms));
      return true;
    }
    default:
      return false;
  }
}

// The network faults.
bool SetNetworkFault(const GeneratedCase& c, FaultKind kind, const GenFault& f, proto::Fault* out) {
  switch (kind) {
    case FaultKind::kLatencySpike: {
      proto::LatencySpike* spike = out->mutable_latency_spike();
      if (!f.every_link) SetLink(c, f, spike->mutable_link());
      spike->set_extra_latency(Ms(f.extra_latency_ms));
      spike->set_duration(Ms(f.duration_ms));
      return true;
    }
    case FaultKind::kSlowBandwidth: {
      proto::SlowBandwidth* slow = out->mutable_slow_bandwidth();
      if (!f.every_link) SetLink(c, f, slow->mutable_link());
      slow->set_bandwidth_bytes_per_second(std::max<int64_t>(f.bandwidth, 1));
      slow->set_duration(Ms(f.duration_ms));
      return true;
    }
    case FaultKind::kPartition:
      SetPartition(c, f, out->mutable_partition());
      return true;
    case FaultKind::kClog:
      if (!f.every_link) SetLink(c, f, out->mutable_clog()->mutable_link());
      out->mutable_clog()->set_duration(Ms(f.duration_ms));
      return true;
    default:
      return false;
  }
}

// The blob store's faults.
bool SetBlobFault(FaultKind kind, const GenFault& f, proto::Fault* out) {
  switch (kind) {
    case FaultKind::kBlobWriteError:
      SetScope(f, out->mutable_blob_write_error()->mutable_scope());
      return true;
    case FaultKind::kBlobReadError:
      SetScope(f, out->mutable_blob_read_error()->mutable_scope());
      return true;
    case FaultKind::kBlobLatency:
      SetScope(f, out->mutable_blob_latency()->mutable_scope());
      out->mutable_blob_latency()->set_extra_latency(Ms(f.extra_latency_ms));
      return true;
    case FaultKind::kBlobOutage:
      out->mutable_blob_outage()->set_duration(Ms(f.duration_ms));
      return true;
    case FaultKind::kBlobTornObject:
      SetScope(f, out->mutable_blob_torn_object()->mutable_scope());
      return true;
    case FaultKind::kBlobCorruption:
      SetScope(f, out->mutable_blob_corruption()->mutable_scope());
      if (f.bytes_from_end > 0)
        out->mutable_blob_corruption()->set_bytes_from_end(f.bytes_from_end);
      return true;
    case FaultKind::kBlobLostWrite:
      SetScope(f, out->mutable_blob_lost_write()->mutable_scope());
      return true;
    case FaultKind::kBlobStaleList:
      SetScope(f, out->mutable_blob_stale_list()->mutable_scope());
      out->mutable_blob_stale_list()->set_lag(Ms(f.duration_ms));
      return true;
    case FaultKind::kBlobThrottle:
      out->mutable_blob_throttle()->set_rate(std::clamp<uint32_t>(f.rate_percent, 1, 100) / 100.0);
      out->mutable_blob_throttle()->set_duration(Ms(f.duration_ms));
      return true;
    default:
      return false;
  }
}

// Local disks, clocks and the external systems.
bool SetOtherFault(const GeneratedCase& c, FaultKind kind, const GenFault& f, proto::Fault* out) {
  const auto disk = [&](proto::DiskFault* d) {
    d->set_node(TaskManager(c, f.node));
    SetScope(f, d->mutable_scope());
  };
  const auto slow = [&](proto::ServiceSlow* s) {
    s->set_extra_latency(Ms(f.extra_latency_ms));
    s->set_duration(Ms(f.duration_ms));
  };
  switch (kind) {
    case FaultKind::kDiskWriteError:
      disk(out->mutable_disk_write_error());
      return true;
    case FaultKind::kDiskSyncError:
      disk(out->mutable_disk_sync_error());
      return true;
    case FaultKind::kDiskCorruption:
      disk(out->mutable_disk_corruption());
      return true;
    case FaultKind::kDiskFull:
      out->mutable_disk_full()->set_node(TaskManager(c, f.node));
      out->mutable_disk_full()->set_duration(Ms(f.duration_ms));
      return true;
    case FaultKind::kClockSkew:
      out->mutable_clock_skew()->set_node(AnyNode(c, f.node));
      out->mutable_clock_skew()->set_offset(std::to_string(f.offset_ms == 0 ? 1 : f.offset_ms) +
                                            "ms");
      return true;
    case FaultKind::kClockDrift:
      out->mutable_clock_drift()->set_node(AnyNode(c, f.node));
      out->mutable_clock_drift()->set_drift_ppm(f.drift_ppm == 0 ? 1 : f.drift_ppm);
      return true;
    case FaultKind::kSourceSlow:
      slow(out->mutable_source_slow());
      return true;
    case FaultKind::kOutputSlow:
      slow(out->mutable_output_slow());
      return true;
    case FaultKind::kSourceUnavailable:
      out->mutable_source_unavailable()->set_duration(Ms(f.duration_ms));
      return true;
    case FaultKind::kOutputUnavailable:
      out->mutable_output_unavailable()->set_duration(Ms(f.duration_ms));
      return true;
    default:
      return false;
  }
}

FaultKind KindOf(uint32_t index) {
  return faults::kFaultKinds[index % faults::kFaultOnlyKindCount].kind;
}

}  // namespace

std::vector<FaultTarget> JobTargets(const GeneratedCase& c) {
  std::vector<FaultTarget> out;
  out.push_back({"source", std::clamp<uint32_t>(c.job.source_parallelism, 1, 8)});
  for (size_t i = 0; i < c.job.operators.size(); ++i) {
    const GenOperator& op = c.job.operators[i];
    static constexpr std::array<const char*, 4> kPrefix = {"map", "filter", "flatmap", "agg"};
    out.push_back({kPrefix[static_cast<size_t>(op.kind)] + std::to_string(i + 1),
                   std::clamp<uint32_t>(op.parallelism, 1, 8)});
  }
  out.push_back({"sink", std::clamp<uint32_t>(c.job.sink_parallelism, 1, 8)});
  return out;
}

void AddFaults(const GeneratedCase& c, const std::vector<FaultTarget>& targets,
               proto::Scenario* s) {
  FL_ASSERT(!targets.empty(), "faults need operators to name");
  for (size_t i = 0; i < c.faults.size(); ++i) {
    const GenFault& f = c.faults[i];
    const FaultKind kind = KindOf(f.kind);
    proto::Fault* out = s->add_faults();
    out->set_name("f" + std::to_string(i + 1) + "-" + std::string(faults::FaultKindName(kind)));
    SetTrigger(c, targets, f.trigger, out->mutable_trigger());
    const bool set = SetProcessFault(c, targets, kind, f, out) ||
                     SetNetworkFault(c, kind, f, out) || SetBlobFault(kind, f, out) ||
                     SetOtherFault(c, kind, f, out);
    FL_ASSERT(set, "a fault kind the generator does not convert");
  }
}

void AddRescale(const GeneratedCase& c, const std::vector<FaultTarget>& targets,
                proto::Scenario* s) {
  if (!c.rescale.enabled) return;
  const proto::Checkpointing& cp = s->checkpointing();
  if (cp.mode() == proto::Checkpointing::UNALIGNED || cp.unaligned()) return;
  uint32_t highest = 1;
  for (const proto::Operator& op : s->job().operators()) {
    if (op.input() == proto::Operator::BROADCAST) return;
    highest = std::max(highest, op.has_parallelism() ? op.parallelism() : s->job().parallelism());
  }
  proto::Fault* out = s->add_faults();
  out->set_name("rescale");
  SetTrigger(c, targets, c.rescale.trigger, out->mutable_trigger());
  out->mutable_rescale()->set_parallelism(std::min<uint32_t>(8, highest + c.rescale.extra % 5));
}

void AddSavepoint(const GeneratedCase& c, const std::vector<FaultTarget>& targets,
                  proto::Scenario* s) {
  if (!c.savepoint.enabled) return;
  const proto::Checkpointing& cp = s->checkpointing();
  if (cp.mode() == proto::Checkpointing::UNALIGNED || cp.unaligned()) return;
  bool broadcast = false;
  for (const proto::Operator& op : s->job().operators()) {
    broadcast |= op.input() == proto::Operator::BROADCAST;
  }
  proto::Fault* out = s->add_faults();
  out->set_name("savepoint");
  SetTrigger(c, targets, c.savepoint.trigger, out->mutable_trigger());
  proto::Savepoint* sp = out->mutable_savepoint();
  sp->set_stop(c.savepoint.stop);
  if (!c.savepoint.resume) return;
  sp->set_resume(true);
  if (!broadcast) sp->set_parallelism(std::min<uint32_t>(8, c.savepoint.parallelism));
  sp->set_backend(static_cast<proto::Savepoint::Backend>(c.savepoint.backend % 4));
  sp->set_claim(c.savepoint.claim);
}

void AddNemesis(const GeneratedCase& c, proto::Scenario* s) {
  if (!c.nemesis.enabled || c.nemesis.rates.empty()) return;
  proto::Nemesis* n = s->mutable_nemesis();
  n->set_fault_phase(Ms(std::max<uint32_t>(c.nemesis.fault_phase_ms, 1)));
  n->set_quiet_phase("20s");
  n->set_swarm(c.nemesis.swarm);
  std::set<FaultKind> seen;
  for (const GenNemesis::Rate& rate : c.nemesis.rates) {
    const FaultKind kind = KindOf(rate.kind);
    if (!seen.insert(kind).second) continue;
    proto::Rate* r = n->add_rates();
    r->set_kind(std::string(faults::FaultKindName(kind)));
    r->set_per_minute(std::clamp<uint32_t>(rate.per_minute, 1, 10000));
  }
}

std::string DescribeFaults(const GeneratedCase& c) {
  std::string out;
  for (const GenFault& f : c.faults) {
    if (!out.empty()) out += ", ";
    out += std::string(faults::FaultKindName(KindOf(f.kind))) + "@";
    out += f.trigger.on_event ? kEvents[f.trigger.event % kEvents.size()].name
                              : Ms(uint64_t{c.workload.source_ms} *
                                   std::min<uint32_t>(f.trigger.at_permille, 799) / 1000);
  }
  return out;
}

}  // namespace faultline::search
