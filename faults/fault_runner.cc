#include "faults/fault_runner.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "engine/exec/events.h"
#include "faults/fault_descriptors.h"

namespace faultline::faults {

namespace {

std::optional<int64_t> EngineEventCode(std::string_view name) {
  const engine::EngineEventInfo* info = engine::FindEngineEventByName(name);
  if (info == nullptr) return std::nullopt;
  return static_cast<int64_t>(info->event);
}

}  // namespace

// A fault about to fire: what, under which name, for which plan entry (-1: the nemesis), and
// when its effects must end.
struct FaultRunner::Firing {
  FaultSpec spec;
  std::string name;
  int entry = -1;
  Time not_after = Time::Max();  // nemesis: every effect ends by the end of the fault phase
};

struct FaultRunner::Entry {
  Firing firing;
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
  Time due = Time::Max();  // an event-triggered entry: when it fires, once triggered
  EntryReport report;
};

// An armed operation fault: its kind's rule, and how many operations (or how long) it has left.
struct FaultRunner::Rule {
  FaultKind kind = FaultKind::kBlobWriteError;
  int entry = -1;
  std::string name;
  OperationRule op;
  std::string prefix;
  uint64_t remaining = UINT64_MAX;
  Time until = Time::Max();
  std::optional<Rng> sampler;  // draws which operations a rate below 1 hits
};

FaultRunner::FaultRunner(sim::World& world, FaultTargets targets)
    : world_(world), targets_(std::move(targets)) {}

FaultRunner::~FaultRunner() {
  if (!installed_) return;
  world_.trace().RemoveObserver(this);
  world_.faults().Uninstall(this);
}

Result<std::unique_ptr<FaultRunner>> FaultRunner::Create(sim::JobWorld& jw, const FaultPlan& plan) {
  return Create(jw.world(), FaultTargets::Of(jw), plan);
}

Result<std::unique_ptr<FaultRunner>> FaultRunner::Create(sim::World& world, FaultTargets targets,
                                                         const FaultPlan& plan) {
  FL_RETURN_IF_ERROR(ValidatePlan(plan, targets));
  std::unique_ptr<FaultRunner> runner(new FaultRunner(world, std::move(targets)));
  runner->AddPlan(plan);
  if (plan.nemesis) runner->AddNemesis(*plan.nemesis);
  return runner;
}

std::vector<uint32_t> FaultRunner::AllNodes() const {
  std::vector<uint32_t> nodes;
  for (uint32_t n = 0; n < world_.node_count(); ++n) nodes.push_back(n);
  return nodes;
}

// --- the plan ---------------------------------------------------------------------------------

void FaultRunner::AddPlan(const FaultPlan& plan) {
  for (size_t i = 0; i < plan.entries.size(); ++i) {
    const PlanEntry& pe = plan.entries[i];
    Entry e;
    e.firing.spec = pe.fault;
    e.firing.name = pe.name.empty() ? "faults[" + std::to_string(i) + "]" : pe.name;
    e.firing.entry = static_cast<int>(i);
    if (pe.ends_by) e.firing.not_after = Time::Zero() + *pe.ends_by;
    if (pe.trigger.on) {
      const EventTrigger& on = *pe.trigger.on;
      const std::optional<int64_t> code = EngineEventCode(on.event);
      FL_ASSERT(code.has_value(), "a validated trigger names an engine event");
      e.event = *code;
      e.checkpoint = on.checkpoint;
      if (!on.subtask.empty())
        e.task_name = targets_.task_names[*targets_.resolve_subtask(on.subtask)];
      e.input = on.input;
      e.occurrence = on.occurrence.value_or(1);
      e.delay = on.delay.value_or(Duration::Zero());
    } else {
      e.at_time = true;
      e.at = Time::Zero() + *pe.trigger.at;
    }
    e.report.name = e.firing.name;
    e.report.kind = pe.fault.kind;
    entries_.push_back(std::move(e));
  }
}

// --- the nemesis ------------------------------------------------------------------------------

void FaultRunner::AddNemesis(const NemesisOptions& nemesis) {
  has_nemesis_ = true;
  fault_phase_end_ = Time::Zero() + *nemesis.fault_phase;
  std::vector<std::pair<FaultKind, double>> listed;
  for (const NemesisRate& rate : nemesis.rates) {
    if (rate.kind == FaultKind::kFailTask && targets_.task_names.empty()) continue;
    listed.emplace_back(rate.kind, rate.per_minute);
  }
  if (nemesis.swarm && !listed.empty()) {
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
}

FaultSpec FaultRunner::RandomSpec(FaultKind kind, Rng& rng, Duration left) {
  FaultSpec s;
  s.kind = kind;
  const std::vector<uint32_t> nodes = AllNodes();
  DrawContext ctx{.rng = rng, .nodes = nodes, .targets = targets_, .left = left};
  DescriptorOf(kind).draw(ctx, s);
  return s;
}

void FaultRunner::NemesisArrival(size_t i) {
  const Time now = world_.now();
  if (now >= fault_phase_end_) return;
  Rng& rng = rate_rngs_[i];
  Firing firing;
  firing.spec = RandomSpec(rates_[i].first, rng, fault_phase_end_ - now);
  firing.name = "nemesis/" + std::string(FaultKindName(firing.spec.kind)) + "#" +
                std::to_string(++nemesis_count_);
  firing.not_after = fault_phase_end_;
  ++nemesis_fired_;
  nemesis_entries_.push_back(PlanEntry{.name = firing.name,
                                       .trigger = Trigger{.at = now - Time::Zero()},
                                       .fault = firing.spec,
                                       .ends_by = fault_phase_end_ - Time::Zero()});
  Fire(firing);
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
  if (r.args[0] == static_cast<int64_t>(engine::EngineEvent::kTriggered) && first_fired_ <= r.time)
    NoteLaterCheckpoint(r);
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    if (e.at_time || e.triggered || r.args[0] != e.event) continue;
    const engine::EventArgs args = sim::EngineEventOf(r).value().args;  // by name
    if (e.checkpoint && args.checkpoint != static_cast<int64_t>(*e.checkpoint)) continue;
    if (e.task_name && r.detail != *e.task_name) continue;
    if (e.input && args.input != static_cast<int64_t>(*e.input)) continue;
    if (++e.matches < e.occurrence) continue;
    e.triggered = true;
    e.due = r.time + e.delay;
    // Observers must not change the world: the fault fires as an event.
    world_.loop().Schedule(r.time + e.delay, [this, i] { FireEntry(i); });
  }
}

// Checkpoint `r` was triggered after a fault fired: an entry still waiting for an event of an
// earlier checkpoint may never see it (the failover skipped or aborted that id).
void FaultRunner::NoteLaterCheckpoint(const sim::TraceRecord& r) {
  const int64_t id = sim::EngineEventOf(r).value().args.checkpoint.value_or(0);
  for (Entry& e : entries_) {
    if (e.at_time || e.triggered || !e.checkpoint || e.report.overtaken) continue;
    if (id <= static_cast<int64_t>(*e.checkpoint)) continue;
    e.report.overtaken = true;
    e.report.note = "checkpoint " + std::to_string(*e.checkpoint) +
                    " was left behind: checkpoint " + std::to_string(id) + " was triggered at " +
                    (r.time - Time::Zero()).ToString() + ", after a fault fired at " +
                    (first_fired_ - Time::Zero()).ToString();
  }
}

void FaultRunner::FireEntry(size_t i) {
  Entry& e = entries_[i];
  e.triggered = true;
  e.report.fired = true;
  e.report.overtaken = false;
  e.report.fired_at = world_.now();
  e.report.note = Fire(e.firing);
  e.report.effective = e.report.note.empty();
}

void FaultRunner::Touch(Time t) {
  if (t != Time::Max()) last_activity_ = std::max(last_activity_, t);
}

std::string FaultRunner::Fire(const Firing& f) {
  const Time now = world_.now();
  const FaultSpec& s = f.spec;
  const uint32_t node = NodeOf(s, targets_);
  const int64_t node_arg = node == sim::kNoNode ? -1 : int64_t{node};
  // What a fault-fired record says is what fired, not where it came from (a plan entry or the
  // nemesis), so a nemesis run written out as plan entries traces the same.
  const int64_t ends_by = f.not_after == Time::Max() ? -1 : (f.not_after - Time::Zero()).nanos();
  world_.Record(sim::TraceKind::kFaultFired, sim::kNoNode,
                {static_cast<int64_t>(s.kind), ends_by, node_arg,
                 s.duration.value_or(Duration::Zero()).nanos()},
                f.name);
  ++fired_[static_cast<size_t>(s.kind)];
  first_fired_ = std::min(first_fired_, now);
  Touch(now);
  const FaultKindDescriptor& descriptor = DescriptorOf(s.kind);
  if (descriptor.rule != nullptr) {
    ArmRule(f);
    return {};
  }
  ActContext ctx{.world = world_,
                 .targets = targets_,
                 .now = now,
                 .not_after = f.not_after,
                 .tag = "injected fault " + f.name,
                 .touch = [this](Time t) { Touch(t); },
                 .permanent =
                     [this, &f] {
                       if (f.entry >= 0) permanent_.push_back(f.name);
                     }};
  return descriptor.act(ctx, s);
}

void FaultRunner::ArmRule(const Firing& f) {
  const Time now = world_.now();
  const FaultSpec& s = f.spec;
  Rule r;
  r.kind = s.kind;
  r.entry = f.entry;
  r.name = f.name;
  r.op = DescriptorOf(s.kind).rule(s);
  if (r.op.window) {
    r.until = now + *r.op.window;
  } else {
    // Scoped faults: the first `count` matching operations, or all of them for `duration`.
    r.prefix = s.scope.target_prefix;
    if (s.scope.count) r.remaining = *s.scope.count;
    if (s.scope.duration) {
      r.until = now + *s.scope.duration;
    } else if (!s.scope.count) {
      r.remaining = 1;
    }
  }
  if (r.op.rate < 1) r.sampler = world_.ForkRng("faults/rate/" + f.name);
  r.until = std::min(r.until, f.not_after);
  Touch(r.until);
  rules_.push_back(std::move(r));
}

sim::FaultEffect FaultRunner::Decide(const sim::FaultSite& site) {
  sim::FaultEffect effect;
  for (Rule& r : rules_) {
    if (r.remaining == 0 || site.now >= r.until) continue;
    const OperationRule& op = r.op;
    if ((op.points & Bit(site.point)) == 0) continue;
    if (op.node != sim::kNoNode && site.node != op.node) continue;
    if (op.link && !((site.node == op.link->a && site.peer == op.link->b) ||
                     (site.node == op.link->b && site.peer == op.link->a))) {
      continue;
    }
    if (op.needs_bytes && site.bytes == 0) continue;
    if (!r.prefix.empty() && site.target.substr(0, r.prefix.size()) != r.prefix) continue;
    if (r.sampler && !r.sampler->Bernoulli(op.rate)) continue;
    if (r.remaining != UINT64_MAX) --r.remaining;
    effect.fault_name = r.name;
    effect.error = op.error;
    // A clog holds what enters the link until it clears; then it goes on in order.
    effect.extra_delay = op.clog ? (r.until - site.now) + op.extra_delay : op.extra_delay;
    effect.corrupt = op.corrupt;
    effect.corrupt_from_end = op.corrupt_from_end;
    effect.lose = op.lose;
    effect.torn = op.torn;
    effect.stale_by = op.stale_by;
    ++injected_[static_cast<size_t>(r.kind)];
    if (r.entry >= 0) ++entries_[static_cast<size_t>(r.entry)].report.injections;
    Touch(site.now);
    return effect;
  }
  return effect;
}

// --- the report -------------------------------------------------------------------------------

std::string FaultRunner::WaitingAtEnd(const Entry& e) const {
  const std::string end =
      "the job finished; the run ended at " + (world_.now() - Time::Zero()).ToString();
  if (e.at_time) return "due at " + (e.at - Time::Zero()).ToString() + ": " + end;
  if (e.triggered) return "triggered, due at " + (e.due - Time::Zero()).ToString() + ": " + end;
  std::string event(engine::EngineEventName(e.event));
  if (e.checkpoint) event += " of checkpoint " + std::to_string(*e.checkpoint);
  if (e.task_name) event += " of " + *e.task_name;
  if (e.input) event += " on input " + std::to_string(*e.input);
  return end + " with " + std::to_string(e.matches) + " " + event + " of the " +
         std::to_string(e.occurrence) + " it waits for";
}

FaultReport FaultRunner::Report(bool job_finished) const {
  FaultReport report;
  for (const Entry& e : entries_) {
    EntryReport er = e.report;
    if (er.fired && IsOperationKind(er.kind) && er.injections == 0) {
      er.effective = false;
      er.note = "no operation matched";
    }
    if (!er.fired) report.never_fired.push_back(er.name);
    if (!er.fired && er.overtaken) report.overtaken.push_back(er.name + " (" + er.note + ")");
    // Only what was due after the end: an `at` time the run reached without firing it is the
    // runner's mistake, and stays unexplained.
    const bool waiting = e.at_time ? e.at > world_.now() : !e.triggered || e.due > world_.now();
    if (!er.fired && !er.overtaken && job_finished && waiting) {
      er.note = WaitingAtEnd(e);
      report.after_end.push_back(er.name + " (" + er.note + ")");
    }
    if (er.fired && !er.effective) report.without_effect.push_back(er.name + " (" + er.note + ")");
    report.entries.push_back(std::move(er));
  }
  report.fired = fired_;
  report.injections = injected_;
  report.nemesis_fired = nemesis_fired_;
  report.nemesis_rates = rates_;
  report.quiet_from = has_nemesis_ ? std::max(last_activity_, fault_phase_end_) : last_activity_;
  report.permanent = permanent_;
  report.nemesis_entries = nemesis_entries_;
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
  for (const std::string& o : overtaken) out += "  never fired: " + o + "\n";
  for (const std::string& o : after_end) out += "  never fired: " + o + "\n";
  return out;
}

}  // namespace faultline::faults
