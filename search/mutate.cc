// Mutations of an explicit fault plan. The fields a mutation may touch are found by reflection on
// the fault's kind message (and its Scope and Link), by name, so every kind gets the mutations
// that make sense for it without a table per kind.
#include "search/mutate.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <array>
#include <set>
#include <string_view>
#include <utility>

#include "base/text.h"
#include "scenarios/duration.h"

namespace faultline::search {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// A field of a fault's kind a mutation may change.
struct Knob {
  Message* message;
  const FieldDescriptor* field;
};

struct Knobs {
  std::vector<Knob> durations;  // restart_after, duration, heal_after, lag, extra_latency
  std::vector<Knob> targets;    // nodes, TaskManagers, link ends, target prefix, scope count
};

constexpr std::array<std::string_view, 5> kDurationFields = {"restart_after", "duration",
                                                             "heal_after", "lag", "extra_latency"};
constexpr std::array<std::string_view, 6> kTargetFields = {"task_manager",  "node", "a", "b",
                                                           "target_prefix", "count"};

// Engine events an added entry may wait for: ones every run with checkpoints records, none
// naming a subtask (the same list generated cases draw from, search/generated_faults.cc).
constexpr std::array<std::string_view, 6> kEvents = {"checkpoint-triggered", "checkpoint-completed",
                                                     "all-acknowledged",     "metadata-written",
                                                     "notification-sent",    "uploaded"};

bool Listed(std::string_view name, const auto& list) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

void CollectKnobs(Message* m, Knobs& knobs) {
  const google::protobuf::Descriptor* d = m->GetDescriptor();
  const google::protobuf::Reflection* r = m->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) continue;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (r->HasField(*m, f)) CollectKnobs(r->MutableMessage(m, f), knobs);
      continue;
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING && Listed(f->name(), kDurationFields) &&
        !r->GetString(*m, f).empty()) {
      knobs.durations.push_back({m, f});
    } else if (Listed(f->name(), kTargetFields)) {
      knobs.targets.push_back({m, f});
    }
  }
}

Message* KindOf(proto::Fault& fault) {
  const google::protobuf::Reflection* r = fault.GetReflection();
  const FieldDescriptor* kind =
      r->GetOneofFieldDescriptor(fault, fault.GetDescriptor()->FindOneofByName("kind"));
  return kind == nullptr ? nullptr : r->MutableMessage(&fault, kind);
}

int64_t Millis(std::string_view text) {
  const Result<Duration> d = scenarios::ParseDuration(text);
  return d.ok() ? d->nanos() / 1'000'000 : 0;
}

std::string Ms(int64_t ms) {
  return DurationText(Duration::Millis(std::max<int64_t>(ms, 0)));
}

uint32_t TaskManagers(const proto::Scenario& s) {
  return s.cluster().has_task_managers() ? s.cluster().task_managers() : 3;
}

std::string Label(const proto::Fault& f, int index) {
  return f.name().empty() ? "faults[" + std::to_string(index) + "]" : f.name();
}

// Another value for a target field; returns what changed.
std::string Retarget(const Knob& k, uint32_t task_managers, Rng& rng) {
  const google::protobuf::Reflection* r = k.message->GetReflection();
  const std::string name(k.field->name());
  if (name == "target_prefix") {
    const std::string now = r->GetString(*k.message, k.field);
    const std::string next = now.empty() ? "checkpoints/" : "";
    r->SetString(k.message, k.field, next);
    return "target_prefix \"" + now + "\" -> \"" + next + "\"";
  }
  const uint32_t now = r->GetUInt32(*k.message, k.field);
  int64_t lo = 0;
  int64_t hi = task_managers;  // node and link ends: 0 (the JobManager) .. n
  if (name == "task_manager") lo = 1;
  if (name == "count") {
    lo = 1;
    hi = 5;
  }
  if (lo >= hi) return "";
  // Another value than the current one: drawn from the range without it.
  auto next = static_cast<uint32_t>(rng.UniformInt(lo, hi - 1));
  if (next >= now && now >= lo && now <= hi) ++next;
  r->SetUInt32(k.message, k.field, next);
  return name + " " + std::to_string(now) + " -> " + std::to_string(next);
}

std::string ScaleDuration(const Knob& k, Rng& rng) {
  const google::protobuf::Reflection* r = k.message->GetReflection();
  const std::string now = r->GetString(*k.message, k.field);
  const int64_t ms = Millis(now);
  const bool longer = rng.Bernoulli(0.5);
  const std::string next = Ms(longer ? std::max<int64_t>(2 * ms, 1) : std::max<int64_t>(ms / 2, 1));
  r->SetString(k.message, k.field, next);
  return std::string(k.field->name()) + " " + now + " -> " + next;
}

std::string ShiftTrigger(proto::Trigger& t, uint64_t horizon_ms, Rng& rng) {
  if (t.has_at()) {
    const int64_t quarter = std::max<int64_t>(static_cast<int64_t>(horizon_ms / 4), 1);
    const int64_t delta = rng.UniformInt(-quarter, quarter);
    const int64_t at =
        std::clamp<int64_t>(Millis(t.at()) + delta, 0, static_cast<int64_t>(horizon_ms));
    const std::string was = t.at();
    t.set_at(Ms(at));
    return "at " + was + " -> " + t.at();
  }
  proto::EventTrigger* on = t.mutable_on();
  const uint64_t which = rng.UniformU64(3);
  const int64_t step = rng.Bernoulli(0.5) ? 1 : -1;
  if (which == 0 && on->has_checkpoint()) {
    const uint64_t was = on->checkpoint();
    on->set_checkpoint(
        static_cast<uint64_t>(std::max<int64_t>(static_cast<int64_t>(was) + step, 1)));
    return "checkpoint " + std::to_string(was) + " -> " + std::to_string(on->checkpoint());
  }
  if (which <= 1) {
    const uint32_t was = on->has_occurrence() ? on->occurrence() : 1;
    on->set_occurrence(static_cast<uint32_t>(std::max<int64_t>(was + step, 1)));
    return "occurrence " + std::to_string(was) + " -> " + std::to_string(on->occurrence());
  }
  const std::string was = on->delay().empty() ? "0" : on->delay();
  const int64_t delay =
      rng.UniformInt(0, std::max<int64_t>(static_cast<int64_t>(horizon_ms / 8), 1));
  on->set_delay(Ms(delay));
  return "delay " + was + " -> " + on->delay();
}

// A new trigger: a time in [0, horizon], or an engine event.
std::string NewTrigger(proto::Trigger& t, uint64_t horizon_ms, Rng& rng) {
  t.Clear();
  if (rng.Bernoulli(0.5)) {
    const int64_t at = rng.UniformInt(0, static_cast<int64_t>(horizon_ms));
    t.set_at(Ms(at));
    return "at " + t.at();
  }
  const std::string_view event = kEvents[rng.UniformU64(kEvents.size())];
  proto::EventTrigger* on = t.mutable_on();
  on->set_event(std::string(event));
  const int64_t nth = rng.UniformInt(1, 3);
  if (event == "checkpoint-triggered") {
    on->set_checkpoint(static_cast<uint64_t>(nth));
  } else {
    on->set_occurrence(static_cast<uint32_t>(nth));
  }
  return "on " + std::string(event) + " #" + std::to_string(nth);
}

// One mutation of `s` in place; returns what it did ("" when it did not apply).
std::string MutateOnce(proto::Scenario& s, uint64_t horizon_ms, const std::string& tag,
                       const std::string& name, Rng& rng) {
  const int n = s.faults_size();
  if (n == 0) return "";
  const int i = static_cast<int>(rng.UniformU64(static_cast<uint64_t>(n)));
  const uint64_t op = rng.UniformU64(5);
  proto::Fault& f = *s.mutable_faults(i);
  const std::string label = Label(f, i);
  Knobs knobs;
  if (Message* kind = KindOf(f)) CollectKnobs(kind, knobs);
  switch (op) {
    case 0:
      return "shift " + label + " " + ShiftTrigger(*f.mutable_trigger(), horizon_ms, rng);
    case 1: {
      proto::Fault copy = f;
      copy.set_name(name);
      copy.clear_ends_by();
      std::string what = "add " + name + " (a copy of " + label + ") " +
                         NewTrigger(*copy.mutable_trigger(), horizon_ms, rng);
      Knobs copied;
      if (Message* kind = KindOf(copy); kind != nullptr) CollectKnobs(kind, copied);
      if (!copied.targets.empty()) {
        const Knob& k = copied.targets[rng.UniformU64(copied.targets.size())];
        const std::string retarget = Retarget(k, TaskManagers(s), rng);
        if (!retarget.empty()) what += ", " + retarget;
      }
      *s.add_faults() = std::move(copy);
      return what;
    }
    case 2:
      // An entry this mutant added stays (adding then removing it would change nothing).
      if (f.name().rfind(tag + "-", 0) == 0) return "";
      s.mutable_faults()->DeleteSubrange(i, 1);
      return "remove " + label;
    case 3: {
      if (knobs.targets.empty()) return "";
      const Knob& k = knobs.targets[rng.UniformU64(knobs.targets.size())];
      const std::string what = Retarget(k, TaskManagers(s), rng);
      return what.empty() ? "" : "retarget " + label + " " + what;
    }
    default: {
      if (knobs.durations.empty()) return "";
      const Knob& k = knobs.durations[rng.UniformU64(knobs.durations.size())];
      return "duration " + label + " " + ScaleDuration(k, rng);
    }
  }
}

constexpr int kDrawsPerMutation = 8;

}  // namespace

std::optional<Mutant> Mutate(const proto::Scenario& parent, uint64_t horizon_ms,
                             const std::string& tag, Rng& rng) {
  Mutant m;
  m.spec = parent;
  const int64_t count = rng.UniformInt(1, 3);
  for (int64_t k = 0; k < count; ++k) {
    for (int draw = 0; draw < kDrawsPerMutation; ++draw) {
      proto::Scenario candidate = m.spec;
      const std::string name = tag + "-" + std::to_string(m.mutations.size());
      const std::string what = MutateOnce(candidate, horizon_ms, tag, name, rng);
      // A mutation that did not apply, or left the plan as it was (a shift clamped at 0, a
      // duration of 1ms halved), is drawn again.
      if (what.empty() || candidate.SerializeAsString() == m.spec.SerializeAsString()) continue;
      if (!scenarios::ValidateScenario(candidate).ok()) {
        ++m.invalid_draws;
        continue;
      }
      m.spec = std::move(candidate);
      m.mutations.push_back(what);
      break;
    }
  }
  if (m.mutations.empty()) return std::nullopt;
  return m;
}

}  // namespace faultline::search
