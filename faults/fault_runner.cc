#include "faults/fault_runner.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "base/assert.h"
#include "base/int128.h"
#include "engine/exec/events.h"
#include "engine/exec/task_manager.h"
#include "scenarios/loader.h"

namespace faultline::faults {
namespace proto = ::faultline::scenario;
using sim::FaultPoint;

namespace {

constexpr uint32_t Bit(FaultPoint p) {
  return uint32_t{1} << static_cast<unsigned>(p);
}
constexpr uint32_t kBlobAll = Bit(FaultPoint::kBlobPut) | Bit(FaultPoint::kBlobGet) |
                              Bit(FaultPoint::kBlobDelete) | Bit(FaultPoint::kBlobList);
constexpr uint32_t kNetAll = Bit(FaultPoint::kNetSend) | Bit(FaultPoint::kNetConnect);
constexpr uint32_t kOutputAll = Bit(FaultPoint::kOutputWrite) | Bit(FaultPoint::kOutputRead);

// Kinds that arm an injector rule: they act on operations, and had an effect only if they hit one.
bool IsOperationKind(FaultKind k) {
  switch (k) {
    case FaultKind::kLatencySpike:
    case FaultKind::kClog:
    case FaultKind::kBlobWriteError:
    case FaultKind::kBlobReadError:
    case FaultKind::kBlobLatency:
    case FaultKind::kBlobOutage:
    case FaultKind::kBlobTornObject:
    case FaultKind::kBlobCorruption:
    case FaultKind::kBlobLostWrite:
    case FaultKind::kBlobStaleList:
    case FaultKind::kDiskWriteError:
    case FaultKind::kDiskSyncError:
    case FaultKind::kDiskFull:
    case FaultKind::kDiskCorruption:
    case FaultKind::kSourceSlow:
    case FaultKind::kSourceUnavailable:
    case FaultKind::kOutputSlow:
    case FaultKind::kOutputUnavailable:
      return true;
    default:
      return false;
  }
}

std::optional<int64_t> EngineEventCode(std::string_view name) {
  const engine::EngineEventInfo* info = engine::FindEngineEventByName(name);
  if (info == nullptr) return std::nullopt;
  return static_cast<int64_t>(info->event);
}

Status FieldError(const std::string& path, const std::string& what) {
  return InvalidArgumentError(path + ": " + what);
}

}  // namespace

// A fault with its parameters resolved (from a plan entry or drawn by the nemesis).
struct FaultRunner::Spec {
  FaultKind kind = FaultKind::kCrashTaskManager;
  std::string name;
  uint32_t node = sim::kNoNode;
  bool has_link = false;
  uint32_t link_a = 0;
  uint32_t link_b = 0;
  std::vector<uint32_t> side_a;
  std::vector<uint32_t> side_b;
  uint32_t task = 0;
  Duration duration;                      // pauses, windows, partitions (zero: never heals)
  std::optional<Duration> restart_after;  // crashes (nullopt: never)
  bool lose_disk = false;
  Duration extra_latency;
  int64_t bandwidth = 0;
  Duration offset;
  int64_t drift_ppm = 0;
  std::string prefix;
  std::optional<uint32_t> count;
  std::optional<Duration> scope_duration;
  std::optional<uint64_t> bytes_from_end;
  Duration lag;
  Time not_after = Time::Max();  // nemesis: every effect ends by the end of the fault phase
};

struct FaultRunner::Entry {
  Spec spec;
  bool at_time = false;
  Time at;
  int64_t event = 0;
  std::optional<uint64_t> checkpoint;
  std::optional<std::string> task_name;
  std::optional<uint32_t> input;
  uint32_t occurrence = 1;
  Duration delay;
  uint32_t matches = 0;
  bool triggered = false;
  EntryReport report;
};

// An armed operation fault: which operations it hits and what it does to them.
struct FaultRunner::Rule {
  FaultKind kind = FaultKind::kBlobWriteError;
  int entry = -1;
  std::string name;
  uint32_t points = 0;
  uint32_t node = sim::kNoNode;  // kNoNode: any
  bool has_link = false;
  uint32_t link_a = 0;
  uint32_t link_b = 0;
  std::string prefix;
  bool needs_bytes = false;  // only operations that write bytes
  uint64_t remaining = UINT64_MAX;
  Time until = Time::Max();
  Status error;
  Duration extra_delay;
  bool clog = false;
  bool corrupt = false;
  std::optional<uint64_t> corrupt_from_end;
  bool lose = false;
  bool torn = false;
  std::optional<Duration> stale_by;
};

FaultTargets FaultTargets::Of(sim::JobWorld& jw) {
  FaultTargets t;
  t.job_manager = jw.job_manager_node();
  t.task_managers = jw.task_manager_nodes();
  const engine::JobSetup& setup = jw.setup();
  for (const engine::TaskSpec& task : setup.plan.tasks) t.task_names.push_back(task.name);
  sim::JobWorld* raw = &jw;
  t.resolve_subtask = [raw](std::string_view name) {
    return scenarios::ResolveSubtask(raw->setup().job, raw->setup().plan, name);
  };
  t.fail_task = [raw](uint32_t task, const Status& why) {
    for (runtime::NodeId node : raw->task_manager_nodes()) {
      engine::TaskManager* tm = raw->task_manager(node);
      if (tm != nullptr && tm->FailTask(task, why)) return true;
    }
    return false;
  };
  return t;
}

FaultRunner::FaultRunner(sim::World& world, FaultTargets targets)
    : world_(world), targets_(std::move(targets)) {}

FaultRunner::~FaultRunner() {
  if (!installed_) return;
  world_.trace().RemoveObserver(this);
  world_.faults().Uninstall(this);
}

Result<std::unique_ptr<FaultRunner>> FaultRunner::Create(sim::JobWorld& jw,
                                                         const proto::Scenario& scenario) {
  return Create(jw.world(), FaultTargets::Of(jw), scenario);
}

Result<std::unique_ptr<FaultRunner>> FaultRunner::Create(sim::World& world, FaultTargets targets,
                                                         const proto::Scenario& scenario) {
  std::unique_ptr<FaultRunner> runner(new FaultRunner(world, std::move(targets)));
  FL_RETURN_IF_ERROR(runner->AddPlan(scenario));
  if (scenario.has_nemesis()) FL_RETURN_IF_ERROR(runner->AddNemesis(scenario.nemesis()));
  return runner;
}

std::vector<uint32_t> FaultRunner::AllNodes() const {
  std::vector<uint32_t> nodes;
  for (uint32_t n = 0; n < world_.node_count(); ++n) nodes.push_back(n);
  return nodes;
}

// --- the plan ---------------------------------------------------------------------------------

namespace {

// Reads the plan's fields with their paths, for errors.
class Reader {
 public:
  Reader(const sim::World& world, std::string path) : world_(world), path_(std::move(path)) {}
  std::string At(std::string_view field) const { return path_ + "." + std::string(field); }

  Result<Duration> Dur(std::string_view field, const std::string& text, Duration fallback,
                       bool positive = true) const {
    if (text.empty()) return fallback;
    auto d = scenarios::ParseDuration(text);
    if (!d.ok()) return FieldError(At(field), std::string(d.status().message()));
    if (positive && *d <= Duration::Zero()) return FieldError(At(field), "must be positive");
    return *d;
  }
  Result<uint32_t> Node(std::string_view field, bool has, uint32_t node) const {
    if (!has) return FieldError(At(field), "missing: which node");
    if (node >= world_.node_count()) {
      return FieldError(At(field), "node " + std::to_string(node) + " does not exist");
    }
    return node;
  }
  Result<std::optional<Duration>> Restart(const std::string& text, bool never) const {
    if (never) return std::optional<Duration>();
    FL_ASSIGN_OR_RETURN(Duration d, Dur("restart_after", text, Duration::Millis(500)));
    return std::optional<Duration>(d);
  }

 private:
  const sim::World& world_;
  std::string path_;
};

}  // namespace

Status FaultRunner::AddPlan(const proto::Scenario& scenario) {
  for (int i = 0; i < scenario.faults_size(); ++i) {
    const proto::Fault& f = scenario.faults(i);
    const std::string path = "faults[" + std::to_string(i) + "]";
    Entry e;
    Spec& s = e.spec;
    s.name = f.name().empty() ? path : f.name();
    if (f.kind_case() == proto::Fault::KIND_NOT_SET) return FieldError(path, "no fault kind set");
    const std::string kind_name(
        proto::Fault::descriptor()->FindFieldByNumber(f.kind_case())->name());
    const std::optional<FaultKind> kind = FaultKindFromName(kind_name);
    if (!kind) return FieldError(path, "fault kind " + kind_name + " is not in the fault library");
    s.kind = *kind;
    const Reader r(world_, path + "." + kind_name);
    auto link = [&](const proto::Link& l) -> Status {
      FL_ASSIGN_OR_RETURN(s.link_a, r.Node("link.a", l.has_a(), l.a()));
      FL_ASSIGN_OR_RETURN(s.link_b, r.Node("link.b", l.has_b(), l.b()));
      if (s.link_a == s.link_b) return FieldError(r.At("link.b"), "a link joins two nodes");
      s.has_link = true;
      return Status::Ok();
    };
    auto scope = [&](const proto::Scope& sc) -> Status {
      s.prefix = sc.target_prefix();
      if (sc.has_count()) {
        if (sc.count() == 0) return FieldError(r.At("scope.count"), "must be at least 1");
        s.count = sc.count();
      }
      if (!sc.duration().empty()) {
        FL_ASSIGN_OR_RETURN(Duration d, r.Dur("scope.duration", sc.duration(), Duration::Zero()));
        s.scope_duration = d;
      }
      return Status::Ok();
    };
    switch (f.kind_case()) {
      case proto::Fault::kCrashTaskManager: {
        const auto& c = f.crash_task_manager();
        FL_ASSIGN_OR_RETURN(s.node, r.Node("task_manager", true, c.task_manager()));
        if (std::find(targets_.task_managers.begin(), targets_.task_managers.end(), s.node) ==
            targets_.task_managers.end()) {
          return FieldError(r.At("task_manager"),
                            "node " + std::to_string(s.node) + " is not a TaskManager");
        }
        FL_ASSIGN_OR_RETURN(s.restart_after, r.Restart(c.restart_after(), c.never_restart()));
        s.lose_disk = c.lose_disk();
        break;
      }
      case proto::Fault::kCrashJobManager: {
        s.node = targets_.job_manager;
        FL_ASSIGN_OR_RETURN(s.restart_after, r.Restart(f.crash_job_manager().restart_after(),
                                                       f.crash_job_manager().never_restart()));
        break;
      }
      case proto::Fault::kFailTask: {
        std::optional<uint32_t> task;
        if (targets_.resolve_subtask) task = targets_.resolve_subtask(f.fail_task().subtask());
        if (!task) return FieldError(r.At("subtask"), "unknown subtask " + f.fail_task().subtask());
        s.task = *task;
        break;
      }
      case proto::Fault::kPause: {
        FL_ASSIGN_OR_RETURN(s.node, r.Node("node", f.pause().has_node(), f.pause().node()));
        FL_ASSIGN_OR_RETURN(s.duration, r.Dur("duration", f.pause().duration(), Duration::Zero()));
        if (s.duration <= Duration::Zero()) return FieldError(r.At("duration"), "missing");
        break;
      }
      case proto::Fault::kLatencySpike: {
        if (f.latency_spike().has_link()) FL_RETURN_IF_ERROR(link(f.latency_spike().link()));
        FL_ASSIGN_OR_RETURN(
            s.extra_latency,
            r.Dur("extra_latency", f.latency_spike().extra_latency(), Duration::Millis(50)));
        FL_ASSIGN_OR_RETURN(s.duration,
                            r.Dur("duration", f.latency_spike().duration(), Duration::Seconds(1)));
        break;
      }
      case proto::Fault::kSlowBandwidth: {
        if (f.slow_bandwidth().has_link()) FL_RETURN_IF_ERROR(link(f.slow_bandwidth().link()));
        s.bandwidth = f.slow_bandwidth().bandwidth_bytes_per_second();
        if (s.bandwidth <= 0) {
          return FieldError(r.At("bandwidth_bytes_per_second"), "must be positive");
        }
        FL_ASSIGN_OR_RETURN(s.duration,
                            r.Dur("duration", f.slow_bandwidth().duration(), Duration::Seconds(1)));
        break;
      }
      case proto::Fault::kPartition: {
        for (uint32_t n : f.partition().side_a()) {
          FL_ASSIGN_OR_RETURN(uint32_t node, r.Node("side_a", true, n));
          s.side_a.push_back(node);
        }
        for (uint32_t n : f.partition().side_b()) {
          FL_ASSIGN_OR_RETURN(uint32_t node, r.Node("side_b", true, n));
          s.side_b.push_back(node);
        }
        if (s.side_a.empty() || s.side_b.empty()) {
          return FieldError(r.At(s.side_a.empty() ? "side_a" : "side_b"), "missing: no nodes");
        }
        FL_ASSIGN_OR_RETURN(s.duration,
                            r.Dur("heal_after", f.partition().heal_after(), Duration::Zero()));
        break;
      }
      case proto::Fault::kClog: {
        if (f.clog().has_link()) FL_RETURN_IF_ERROR(link(f.clog().link()));
        FL_ASSIGN_OR_RETURN(s.duration,
                            r.Dur("duration", f.clog().duration(), Duration::Millis(500)));
        break;
      }
      case proto::Fault::kBlobWriteError: {
        FL_RETURN_IF_ERROR(scope(f.blob_write_error().scope()));
        break;
      }
      case proto::Fault::kBlobReadError: {
        FL_RETURN_IF_ERROR(scope(f.blob_read_error().scope()));
        break;
      }
      case proto::Fault::kBlobLatency: {
        FL_RETURN_IF_ERROR(scope(f.blob_latency().scope()));
        FL_ASSIGN_OR_RETURN(
            s.extra_latency,
            r.Dur("extra_latency", f.blob_latency().extra_latency(), Duration::Millis(100)));
        break;
      }
      case proto::Fault::kBlobOutage: {
        FL_ASSIGN_OR_RETURN(s.duration,
                            r.Dur("duration", f.blob_outage().duration(), Duration::Seconds(1)));
        break;
      }
      case proto::Fault::kBlobTornObject: {
        FL_RETURN_IF_ERROR(scope(f.blob_torn_object().scope()));
        break;
      }
      case proto::Fault::kBlobCorruption: {
        FL_RETURN_IF_ERROR(scope(f.blob_corruption().scope()));
        if (f.blob_corruption().has_bytes_from_end()) {
          s.bytes_from_end = f.blob_corruption().bytes_from_end();
        }
        break;
      }
      case proto::Fault::kBlobLostWrite: {
        FL_RETURN_IF_ERROR(scope(f.blob_lost_write().scope()));
        break;
      }
      case proto::Fault::kBlobStaleList: {
        FL_RETURN_IF_ERROR(scope(f.blob_stale_list().scope()));
        FL_ASSIGN_OR_RETURN(s.lag, r.Dur("lag", f.blob_stale_list().lag(), Duration::Seconds(5)));
        break;
      }
      case proto::Fault::kDiskWriteError:
      case proto::Fault::kDiskSyncError:
      case proto::Fault::kDiskCorruption: {
        const proto::DiskFault& d =
            f.kind_case() == proto::Fault::kDiskWriteError  ? f.disk_write_error()
            : f.kind_case() == proto::Fault::kDiskSyncError ? f.disk_sync_error()
                                                            : f.disk_corruption();
        FL_ASSIGN_OR_RETURN(s.node, r.Node("node", d.has_node(), d.node()));
        FL_RETURN_IF_ERROR(scope(d.scope()));
        break;
      }
      case proto::Fault::kDiskFull: {
        FL_ASSIGN_OR_RETURN(s.node, r.Node("node", f.disk_full().has_node(), f.disk_full().node()));
        FL_ASSIGN_OR_RETURN(s.duration,
                            r.Dur("duration", f.disk_full().duration(), Duration::Seconds(1)));
        break;
      }
      case proto::Fault::kDiskUnsyncedLoss: {
        const auto& d = f.disk_unsynced_loss();
        FL_ASSIGN_OR_RETURN(s.node, r.Node("node", d.has_node(), d.node()));
        FL_ASSIGN_OR_RETURN(s.restart_after, r.Restart(d.restart_after(), d.never_restart()));
        break;
      }
      case proto::Fault::kClockSkew: {
        FL_ASSIGN_OR_RETURN(s.node,
                            r.Node("node", f.clock_skew().has_node(), f.clock_skew().node()));
        FL_ASSIGN_OR_RETURN(s.offset, r.Dur("offset", f.clock_skew().offset(), Duration::Zero(),
                                            /*positive=*/false));
        break;
      }
      case proto::Fault::kClockDrift: {
        FL_ASSIGN_OR_RETURN(s.node,
                            r.Node("node", f.clock_drift().has_node(), f.clock_drift().node()));
        s.drift_ppm = f.clock_drift().drift_ppm();
        if (s.drift_ppm <= -1'000'000 || s.drift_ppm > 1'000'000) {
          return FieldError(r.At("drift_ppm"), "must be above -1000000 and at most 1000000");
        }
        break;
      }
      case proto::Fault::kSourceSlow:
      case proto::Fault::kOutputSlow: {
        const proto::ServiceSlow& sl =
            f.kind_case() == proto::Fault::kSourceSlow ? f.source_slow() : f.output_slow();
        FL_ASSIGN_OR_RETURN(s.extra_latency,
                            r.Dur("extra_latency", sl.extra_latency(), Duration::Millis(100)));
        FL_ASSIGN_OR_RETURN(s.duration, r.Dur("duration", sl.duration(), Duration::Seconds(1)));
        break;
      }
      case proto::Fault::kSourceUnavailable:
      case proto::Fault::kOutputUnavailable: {
        const proto::Outage& o = f.kind_case() == proto::Fault::kSourceUnavailable
                                     ? f.source_unavailable()
                                     : f.output_unavailable();
        FL_ASSIGN_OR_RETURN(s.duration, r.Dur("duration", o.duration(), Duration::Seconds(1)));
        break;
      }
      case proto::Fault::KIND_NOT_SET:
        break;
    }

    // The trigger.
    const std::string tpath = path + ".trigger";
    if (!f.has_trigger() || f.trigger().when_case() == proto::Trigger::WHEN_NOT_SET) {
      return FieldError(tpath, "missing: set at or on");
    }
    if (f.trigger().has_on()) {
      const proto::EventTrigger& on = f.trigger().on();
      const std::optional<int64_t> code = EngineEventCode(on.event());
      if (!code) return FieldError(tpath + ".on.event", "unknown engine event " + on.event());
      e.event = *code;
      if (on.has_checkpoint()) e.checkpoint = on.checkpoint();
      if (!on.subtask().empty()) {
        std::optional<uint32_t> task;
        if (targets_.resolve_subtask) task = targets_.resolve_subtask(on.subtask());
        if (!task || *task >= targets_.task_names.size()) {
          return FieldError(tpath + ".on.subtask", "unknown subtask " + on.subtask());
        }
        e.task_name = targets_.task_names[*task];
      }
      if (on.has_input()) e.input = on.input();
      if (on.has_occurrence()) {
        if (on.occurrence() == 0) return FieldError(tpath + ".on.occurrence", "at least 1");
        e.occurrence = on.occurrence();
      }
      const Reader tr(world_, tpath + ".on");
      FL_ASSIGN_OR_RETURN(e.delay, tr.Dur("delay", on.delay(), Duration::Zero(), false));
      if (e.delay < Duration::Zero()) return FieldError(tpath + ".on.delay", "negative");
    } else {
      const Reader tr(world_, path + ".trigger");
      FL_ASSIGN_OR_RETURN(Duration at, tr.Dur("at", f.trigger().at(), Duration::Zero(), false));
      if (at < Duration::Zero()) return FieldError(tpath + ".at", "negative");
      e.at_time = true;
      e.at = Time::Zero() + at;
    }
    e.report.name = s.name;
    e.report.kind = s.kind;
    entries_.push_back(std::move(e));
  }
  return Status::Ok();
}

// --- the nemesis ------------------------------------------------------------------------------

Status FaultRunner::AddNemesis(const proto::Nemesis& nemesis) {
  const Reader r(world_, "nemesis");
  FL_ASSIGN_OR_RETURN(Duration phase,
                      r.Dur("fault_phase", nemesis.fault_phase(), Duration::Zero()));
  if (phase <= Duration::Zero()) return FieldError("nemesis.fault_phase", "missing");
  has_nemesis_ = true;
  fault_phase_end_ = Time::Zero() + phase;
  std::vector<std::pair<FaultKind, double>> listed;
  for (int i = 0; i < nemesis.rates_size(); ++i) {
    const proto::Rate& rate = nemesis.rates(i);
    const std::string path = "nemesis.rates[" + std::to_string(i) + "]";
    const std::optional<FaultKind> kind = FaultKindFromName(rate.kind());
    if (!kind) return FieldError(path + ".kind", "unknown fault kind " + rate.kind());
    if (!(rate.per_minute() > 0) || rate.per_minute() > 10000) {
      return FieldError(path + ".per_minute", "must be positive and at most 10000");
    }
    if (*kind == FaultKind::kFailTask && targets_.task_names.empty()) continue;
    listed.emplace_back(*kind, rate.per_minute());
  }
  if (nemesis.swarm() && !listed.empty()) {
    // Each seed runs a random subset of the listed kinds, each at a random multiple of its rate.
    Rng swarm = world_.ForkRng("faults/swarm");
    static constexpr double kFactors[] = {0.25, 0.5, 1, 2, 4};
    std::vector<std::pair<FaultKind, double>> chosen;
    for (const auto& [kind, rate] : listed) {
      const bool on = swarm.Bernoulli(0.5);
      const double factor = kFactors[swarm.UniformU64(std::size(kFactors))];
      if (on) chosen.emplace_back(kind, rate * factor);
    }
    if (chosen.empty()) chosen.push_back(listed[swarm.UniformU64(listed.size())]);
    listed = std::move(chosen);
  }
  rates_ = std::move(listed);
  for (const auto& [kind, rate] : rates_) {
    rate_rngs_.push_back(world_.ForkRng("faults/nemesis/" + std::string(FaultKindName(kind))));
  }
  return Status::Ok();
}

FaultRunner::Spec FaultRunner::RandomSpec(FaultKind kind, Rng& rng, Duration left) {
  Spec s;
  s.kind = kind;
  s.not_after = fault_phase_end_;
  const std::vector<uint32_t> nodes = AllNodes();
  auto any_node = [&] { return nodes[rng.UniformU64(nodes.size())]; };
  auto dur = [&](Duration lo, Duration hi) {
    hi = std::min(hi, left);
    lo = std::min(lo, hi);
    return lo >= hi ? hi : rng.UniformDuration(lo, hi);
  };
  auto maybe_link = [&] {
    if (nodes.size() < 2 || rng.Bernoulli(0.5)) return;  // every link
    s.has_link = true;
    s.link_a = any_node();
    do {
      s.link_b = any_node();
    } while (s.link_b == s.link_a);
  };
  auto scope = [&] { s.count = static_cast<uint32_t>(1 + rng.UniformU64(3)); };
  switch (kind) {
    case FaultKind::kCrashTaskManager:
      s.node = targets_.task_managers.empty()
                   ? any_node()
                   : targets_.task_managers[rng.UniformU64(targets_.task_managers.size())];
      s.restart_after = dur(Duration::Millis(100), Duration::Seconds(2));
      s.lose_disk = rng.Bernoulli(0.1);
      break;
    case FaultKind::kCrashJobManager:
      s.node = targets_.job_manager;
      s.restart_after = dur(Duration::Millis(100), Duration::Seconds(2));
      break;
    case FaultKind::kFailTask:
      s.task =
          static_cast<uint32_t>(rng.UniformU64(std::max<size_t>(1, targets_.task_names.size())));
      break;
    case FaultKind::kPause:
      s.node = any_node();
      s.duration = dur(Duration::Millis(50), Duration::Seconds(1));
      break;
    case FaultKind::kLatencySpike:
      maybe_link();
      s.extra_latency = rng.UniformDuration(Duration::Millis(1), Duration::Millis(50));
      s.duration = dur(Duration::Millis(100), Duration::Seconds(2));
      break;
    case FaultKind::kSlowBandwidth:
      maybe_link();
      s.bandwidth = rng.UniformInt(100'000, 10'000'000);
      s.duration = dur(Duration::Millis(100), Duration::Seconds(2));
      break;
    case FaultKind::kPartition: {
      for (uint32_t n : nodes) (rng.Bernoulli(0.5) ? s.side_a : s.side_b).push_back(n);
      if (s.side_a.empty()) {
        s.side_a.push_back(s.side_b.back());
        s.side_b.pop_back();
      }
      if (s.side_b.empty()) {
        s.side_b.push_back(s.side_a.back());
        s.side_a.pop_back();
      }
      s.duration = dur(Duration::Millis(100), Duration::Seconds(3));
      break;
    }
    case FaultKind::kClog:
      maybe_link();
      s.duration = dur(Duration::Millis(50), Duration::Seconds(1));
      break;
    case FaultKind::kBlobLatency:
      scope();
      s.extra_latency = rng.UniformDuration(Duration::Millis(5), Duration::Millis(200));
      break;
    case FaultKind::kBlobStaleList:
      scope();
      s.lag = rng.UniformDuration(Duration::Millis(500), Duration::Seconds(10));
      break;
    case FaultKind::kBlobWriteError:
    case FaultKind::kBlobReadError:
    case FaultKind::kBlobTornObject:
    case FaultKind::kBlobCorruption:
    case FaultKind::kBlobLostWrite:
      scope();
      break;
    case FaultKind::kDiskWriteError:
    case FaultKind::kDiskSyncError:
    case FaultKind::kDiskCorruption:
      s.node = any_node();
      scope();
      break;
    case FaultKind::kDiskFull:
      s.node = any_node();
      s.duration = dur(Duration::Millis(100), Duration::Seconds(2));
      break;
    case FaultKind::kDiskUnsyncedLoss:
      s.node = any_node();
      s.restart_after = dur(Duration::Millis(100), Duration::Seconds(2));
      break;
    case FaultKind::kClockSkew:
      s.node = any_node();
      // One draw per statement: the operands of * are evaluated in an order C++ leaves to the
      // compiler (GCC drew this sign first and the drift's magnitude first; clang the other way
      // round). The hash must not depend on the compiler.
      if (const bool positive = rng.Bernoulli(0.5); positive) {
        s.offset = rng.UniformDuration(Duration::Millis(1), Duration::Millis(500));
      } else {
        s.offset =
            Duration::Zero() - rng.UniformDuration(Duration::Millis(1), Duration::Millis(500));
      }
      break;
    case FaultKind::kClockDrift: {
      s.node = any_node();
      const int64_t magnitude = rng.UniformInt(1, 1000);
      s.drift_ppm = rng.Bernoulli(0.5) ? magnitude : -magnitude;
      break;
    }
    case FaultKind::kBlobOutage:
    case FaultKind::kSourceUnavailable:
    case FaultKind::kOutputUnavailable:
      s.duration = dur(Duration::Millis(100), Duration::Seconds(2));
      break;
    case FaultKind::kSourceSlow:
    case FaultKind::kOutputSlow:
      s.extra_latency = rng.UniformDuration(Duration::Millis(1), Duration::Millis(100));
      s.duration = dur(Duration::Millis(100), Duration::Seconds(2));
      break;
  }
  return s;
}

void FaultRunner::NemesisArrival(size_t i) {
  const Time now = world_.now();
  if (now >= fault_phase_end_) return;
  Rng& rng = rate_rngs_[i];
  Spec spec = RandomSpec(rates_[i].first, rng, fault_phase_end_ - now);
  spec.name =
      "nemesis/" + std::string(FaultKindName(spec.kind)) + "#" + std::to_string(++nemesis_count_);
  ++nemesis_fired_;
  Fire(spec, -1);
  const Time next =
      now + rng.ExponentialDuration(Duration::Nanos(static_cast<int64_t>(60e9 / rates_[i].second)));
  if (next < fault_phase_end_) world_.loop().Schedule(next, [this, i] { NemesisArrival(i); });
}

// --- installing, triggering, firing -----------------------------------------------------------

void FaultRunner::Install() {
  FL_ASSERT(!installed_, "FaultRunner::Install called twice");
  installed_ = true;
  const Time now = world_.now();
  last_activity_ = now;
  bool watch = false;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].at_time) {
      world_.loop().Schedule(std::max(now, entries_[i].at), [this, i] { FireEntry(i); });
    } else {
      watch = true;
    }
  }
  for (size_t i = 0; i < rates_.size(); ++i) {
    const Time first = now + rate_rngs_[i].ExponentialDuration(
                                 Duration::Nanos(static_cast<int64_t>(60e9 / rates_[i].second)));
    if (first < fault_phase_end_) world_.loop().Schedule(first, [this, i] { NemesisArrival(i); });
  }
  if (watch) world_.trace().AddObserver(this);
  world_.faults().Install(this);
}

void FaultRunner::OnRecord(const sim::TraceRecord& r) {
  if (r.kind != sim::TraceKind::kEngine) return;
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    if (e.at_time || e.triggered || r.args[0] != e.event) continue;
    const engine::EventArgs args = sim::EngineEventOf(r).value().args;  // by name
    if (e.checkpoint && args.checkpoint != static_cast<int64_t>(*e.checkpoint)) continue;
    if (e.task_name && r.detail != *e.task_name) continue;
    if (e.input && args.input != static_cast<int64_t>(*e.input)) continue;
    if (++e.matches < e.occurrence) continue;
    e.triggered = true;
    // Observers must not change the world: the fault fires as an event.
    world_.loop().Schedule(r.time + e.delay, [this, i] { FireEntry(i); });
  }
}

void FaultRunner::FireEntry(size_t i) {
  Entry& e = entries_[i];
  e.triggered = true;
  e.report.fired = true;
  e.report.fired_at = world_.now();
  e.report.note = Fire(e.spec, static_cast<int>(i));
  e.report.effective = e.report.note.empty();
}

void FaultRunner::Touch(Time t) {
  if (t != Time::Max()) last_activity_ = std::max(last_activity_, t);
}

std::string FaultRunner::Fire(const Spec& s, int entry) {
  const Time now = world_.now();
  const int64_t node_arg = s.node == sim::kNoNode ? -1 : int64_t{s.node};
  world_.Record(sim::TraceKind::kFaultFired, sim::kNoNode,
                {static_cast<int64_t>(s.kind), entry, node_arg, s.duration.nanos()}, s.name);
  ++fired_[static_cast<size_t>(s.kind)];
  Touch(now);
  const std::string tag = "injected fault " + s.name;
  auto down = [&](uint32_t node) { return "node " + std::to_string(node) + " was down"; };
  auto end_of = [&](Duration d) { return std::min(now + d, s.not_after); };
  switch (s.kind) {
    case FaultKind::kCrashTaskManager:
    case FaultKind::kCrashJobManager:
    case FaultKind::kDiskUnsyncedLoss: {
      if (!world_.IsUp(s.node)) return down(s.node);
      world_.Crash(s.node, tag);
      if (s.lose_disk) world_.LoseDisk(s.node);
      if (s.restart_after) {
        const Time at = end_of(*s.restart_after);
        const uint32_t node = s.node;
        world_.loop().Schedule(at, [this, node] {
          if (!world_.IsUp(node)) world_.Restart(node);
        });
        Touch(at);
      } else if (entry >= 0) {
        permanent_.push_back(s.name);
      }
      return {};
    }
    case FaultKind::kFailTask:
      if (!targets_.fail_task ||
          !targets_.fail_task(s.task, InternalError(tag + ": the task failed"))) {
        return "no live process ran task " + std::to_string(s.task);
      }
      return {};
    case FaultKind::kPause: {
      if (!world_.IsUp(s.node)) return down(s.node);
      if (world_.IsPaused(s.node)) return "node " + std::to_string(s.node) + " was paused already";
      world_.Pause(s.node);
      const Time at = end_of(s.duration);
      const uint32_t node = s.node;
      const uint32_t incarnation = world_.Incarnation(node);
      world_.loop().Schedule(at, [this, node, incarnation] {
        if (world_.IsUp(node) && world_.Incarnation(node) == incarnation) world_.Resume(node);
      });
      Touch(at);
      return {};
    }
    case FaultKind::kSlowBandwidth: {
      std::vector<std::pair<uint32_t, uint32_t>> links;
      if (s.has_link) {
        links.emplace_back(s.link_a, s.link_b);
      } else {
        for (uint32_t a = 0; a < world_.node_count(); ++a) {
          for (uint32_t b = a + 1; b < world_.node_count(); ++b) links.emplace_back(a, b);
        }
      }
      auto saved =
          std::make_shared<std::vector<std::tuple<uint32_t, uint32_t, sim::LinkOptions>>>();
      for (const auto& [a, b] : links) {
        sim::LinkOptions options = world_.network().Link(a, b);
        saved->emplace_back(a, b, options);
        options.bandwidth_bytes_per_second = s.bandwidth;
        world_.network().SetLink(a, b, options);
      }
      const Time at = end_of(s.duration);
      world_.loop().Schedule(at, [this, saved] {
        for (const auto& [a, b, options] : *saved) world_.network().SetLink(a, b, options);
      });
      Touch(at);
      return {};
    }
    case FaultKind::kPartition: {
      const uint64_t id = world_.network().Partition(s.side_a, s.side_b);
      if (s.duration > Duration::Zero()) {
        const Time at = end_of(s.duration);
        world_.loop().Schedule(at, [this, id] { world_.network().Heal(id); });
        Touch(at);
      } else if (entry >= 0) {
        permanent_.push_back(s.name);
      }
      return {};
    }
    case FaultKind::kClockSkew:
      world_.SetClock(s.node, s.offset, world_.ClockDriftPpm(s.node));
      if (entry >= 0) permanent_.push_back(s.name);
      return {};
    case FaultKind::kClockDrift: {
      // The clock keeps its reading and changes its rate: the offset absorbs the drift so far.
      const Int128 t = now.nanos();
      const Int128 before = t * world_.ClockDriftPpm(s.node) / 1'000'000;
      const Int128 after = t * s.drift_ppm / 1'000'000;
      const Duration offset =
          world_.ClockOffset(s.node) + Duration::Nanos(static_cast<int64_t>(before - after));
      world_.SetClock(s.node, offset, s.drift_ppm);
      if (entry >= 0) permanent_.push_back(s.name);
      return {};
    }
    default:
      ArmRule(s, entry);
      return {};
  }
}

void FaultRunner::ArmRule(const Spec& s, int entry) {
  const Time now = world_.now();
  Rule r;
  r.kind = s.kind;
  r.entry = entry;
  r.name = s.name;
  r.prefix = s.prefix;
  // Scoped faults: the first `count` matching operations, or all of them for `duration`.
  if (s.count) r.remaining = *s.count;
  if (s.scope_duration) {
    r.until = now + *s.scope_duration;
  } else if (!s.count) {
    r.remaining = 1;
  }
  auto window = [&] {
    r.remaining = UINT64_MAX;
    r.until = now + s.duration;
  };
  switch (s.kind) {
    case FaultKind::kLatencySpike:
    case FaultKind::kClog:
      window();
      r.points = kNetAll;
      r.has_link = s.has_link;
      r.link_a = s.link_a;
      r.link_b = s.link_b;
      r.extra_delay = s.extra_latency;
      r.clog = s.kind == FaultKind::kClog;
      break;
    case FaultKind::kBlobWriteError:
      r.points = Bit(FaultPoint::kBlobPut);
      r.error = InternalError("blob put failed");
      break;
    case FaultKind::kBlobReadError:
      r.points = Bit(FaultPoint::kBlobGet);
      r.error = InternalError("blob get failed");
      break;
    case FaultKind::kBlobLatency:
      r.points = kBlobAll;
      r.extra_delay = s.extra_latency;
      break;
    case FaultKind::kBlobOutage:
      window();
      r.points = kBlobAll;
      r.error = UnavailableError("the blob store is unavailable");
      break;
    case FaultKind::kBlobTornObject:
      r.points = Bit(FaultPoint::kBlobPut);
      r.needs_bytes = true;
      r.torn = true;
      break;
    case FaultKind::kBlobCorruption:
      r.points = Bit(FaultPoint::kBlobPut);
      r.needs_bytes = true;
      r.corrupt = true;
      r.corrupt_from_end = s.bytes_from_end;
      break;
    case FaultKind::kBlobLostWrite:
      r.points = Bit(FaultPoint::kBlobPut);
      r.lose = true;
      break;
    case FaultKind::kBlobStaleList:
      r.points = Bit(FaultPoint::kBlobList);
      r.stale_by = s.lag;
      break;
    case FaultKind::kDiskWriteError:
      r.points = Bit(FaultPoint::kDiskWrite);
      r.node = s.node;
      r.error = InternalError("input/output error writing the local disk");
      break;
    case FaultKind::kDiskSyncError:
      r.points = Bit(FaultPoint::kDiskSync);
      r.node = s.node;
      r.error = InternalError("input/output error syncing the local disk");
      break;
    case FaultKind::kDiskCorruption:
      r.points = Bit(FaultPoint::kDiskWrite);
      r.node = s.node;
      r.needs_bytes = true;
      r.corrupt = true;
      break;
    case FaultKind::kDiskFull:
      window();
      r.points = Bit(FaultPoint::kDiskWrite);
      r.node = s.node;
      r.needs_bytes = true;
      r.error = ResourceExhaustedError("no space left on the local disk");
      break;
    case FaultKind::kSourceSlow:
      window();
      r.points = Bit(FaultPoint::kLogRead);
      r.extra_delay = s.extra_latency;
      break;
    case FaultKind::kSourceUnavailable:
      window();
      r.points = Bit(FaultPoint::kLogRead);
      r.error = UnavailableError("the source log is unavailable");
      break;
    case FaultKind::kOutputSlow:
      window();
      r.points = kOutputAll;
      r.extra_delay = s.extra_latency;
      break;
    case FaultKind::kOutputUnavailable:
      window();
      r.points = kOutputAll;
      r.error = UnavailableError("the output store is unavailable");
      break;
    default:
      FL_ASSERT(false, "not an operation fault kind");
  }
  r.until = std::min(r.until, s.not_after);
  Touch(r.until);
  rules_.push_back(std::move(r));
}

sim::FaultEffect FaultRunner::Decide(const sim::FaultSite& site) {
  sim::FaultEffect effect;
  for (Rule& r : rules_) {
    if (r.remaining == 0 || site.now >= r.until) continue;
    if ((r.points & Bit(site.point)) == 0) continue;
    if (r.node != sim::kNoNode && site.node != r.node) continue;
    if (r.has_link && !((site.node == r.link_a && site.peer == r.link_b) ||
                        (site.node == r.link_b && site.peer == r.link_a))) {
      continue;
    }
    if (r.needs_bytes && site.bytes == 0) continue;
    if (!r.prefix.empty() && site.target.substr(0, r.prefix.size()) != r.prefix) continue;
    if (r.remaining != UINT64_MAX) --r.remaining;
    effect.fault_name = r.name;
    effect.error = r.error;
    // A clog holds what enters the link until it clears; then it goes on in order.
    effect.extra_delay = r.clog ? (r.until - site.now) + r.extra_delay : r.extra_delay;
    effect.corrupt = r.corrupt;
    effect.corrupt_from_end = r.corrupt_from_end;
    effect.lose = r.lose;
    effect.torn = r.torn;
    effect.stale_by = r.stale_by;
    ++injected_[static_cast<size_t>(r.kind)];
    if (r.entry >= 0) ++entries_[static_cast<size_t>(r.entry)].report.injections;
    Touch(site.now);
    return effect;
  }
  return effect;
}

// --- the report -------------------------------------------------------------------------------

FaultReport FaultRunner::Report() const {
  FaultReport report;
  for (const Entry& e : entries_) {
    EntryReport er = e.report;
    if (er.fired && IsOperationKind(er.kind) && er.injections == 0) {
      er.effective = false;
      er.note = "no operation matched";
    }
    if (!er.fired) report.never_fired.push_back(er.name);
    if (er.fired && !er.effective) report.without_effect.push_back(er.name + " (" + er.note + ")");
    report.entries.push_back(std::move(er));
  }
  report.fired = fired_;
  report.injections = injected_;
  report.nemesis_fired = nemesis_fired_;
  report.nemesis_rates = rates_;
  report.quiet_from = has_nemesis_ ? std::max(last_activity_, fault_phase_end_) : last_activity_;
  report.permanent = permanent_;
  return report;
}

uint64_t FaultReport::total_fired() const {
  uint64_t n = 0;
  for (uint64_t f : fired) n += f;
  return n;
}

std::string FaultReport::ToString() const {
  std::string out;
  for (const EntryReport& e : entries) {
    out += "  " + e.name + " (" + std::string(FaultKindName(e.kind)) + "): ";
    if (!e.fired) {
      out += "never fired\n";
      continue;
    }
    out += "fired at " + (e.fired_at - Time::Zero()).ToString();
    if (IsOperationKind(e.kind)) out += ", hit " + std::to_string(e.injections) + " operations";
    if (!e.effective) out += ", no effect: " + e.note;
    out += "\n";
  }
  std::string kinds;
  for (size_t k = 0; k < kFaultKindCount; ++k) {
    if (fired[k] == 0) continue;
    if (!kinds.empty()) kinds += ", ";
    kinds += std::to_string(fired[k]) + " " + std::string(kFaultKinds[k].name);
    if (injections[k] > 0) kinds += " (" + std::to_string(injections[k]) + " hits)";
  }
  out += "  fired: " + (kinds.empty() ? std::string("none") : kinds) + "\n";
  out += "  quiet from " + (quiet_from - Time::Zero()).ToString();
  if (!permanent.empty()) out += " (" + std::to_string(permanent.size()) + " permanent)";
  out += "\n";
  if (!never_fired.empty())
    out += "  inconclusive: " + std::to_string(never_fired.size()) + " plan entries never fired\n";
  return out;
}

}  // namespace faultline::faults
