#include "scenarios/fault_plan_proto.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>

#include <string_view>

#include "base/assert.h"
#include "base/text.h"
#include "faults/fault_descriptors.h"
#include "scenarios/loader.h"

namespace faultline::scenarios {
namespace {

namespace pb = ::google::protobuf;
using faults::FaultField;
using faults::FaultSpec;
using faults::FieldType;
using faults::PlanIssue;
using Issue = std::optional<PlanIssue>;

// The schema field a descriptor names: a descriptor and the schema disagreeing is a bug.
const pb::FieldDescriptor* Field(const pb::Message& m, std::string_view name) {
  const pb::FieldDescriptor* fd = m.GetDescriptor()->FindFieldByName(std::string(name));
  FL_ASSERT(fd != nullptr, "the fault descriptor names a field the schema lacks");
  return fd;
}

std::string KnownKinds() {
  std::string out;
  for (const faults::FaultKindInfo& info : faults::kFaultKinds) {
    if (!out.empty()) out += ", ";
    out += info.name;
  }
  return out;
}

Issue ReadDuration(const std::string& path, const std::string& text, std::optional<Duration>* out) {
  out->reset();
  if (text.empty()) return std::nullopt;
  Result<Duration> d = ParseDuration(text);
  if (!d.ok()) return PlanIssue{path, std::string(d.status().message())};
  *out = *d;
  return std::nullopt;
}

std::optional<uint32_t> ReadNode(const pb::Message& m, std::string_view name) {
  const pb::FieldDescriptor* fd = Field(m, name);
  if (fd->has_presence() && !m.GetReflection()->HasField(m, fd)) return std::nullopt;
  return m.GetReflection()->GetUInt32(m, fd);
}

std::vector<uint32_t> ReadNodes(const pb::Message& m, std::string_view name) {
  const pb::FieldDescriptor* fd = Field(m, name);
  std::vector<uint32_t> nodes;
  for (int i = 0; i < m.GetReflection()->FieldSize(m, fd); ++i) {
    nodes.push_back(m.GetReflection()->GetRepeatedUInt32(m, fd, i));
  }
  return nodes;
}

Issue ReadScope(const pb::Message& scope, const std::string& path, faults::Scope* out) {
  const pb::Reflection* r = scope.GetReflection();
  out->target_prefix = r->GetString(scope, Field(scope, "target_prefix"));
  out->count = ReadNode(scope, "count");
  return ReadDuration(path + ".duration", r->GetString(scope, Field(scope, "duration")),
                      &out->duration);
}

Issue ReadField(const pb::Message& m, const FaultField& f, const std::string& kind_path,
                FaultSpec* s) {
  const pb::Reflection* r = m.GetReflection();
  const std::string path = kind_path + "." + std::string(f.name);
  switch (f.type) {
    case FieldType::kNode:
    case FieldType::kTaskManager:
      s->node = ReadNode(m, f.name);
      return std::nullopt;
    case FieldType::kLink: {
      const pb::FieldDescriptor* fd = Field(m, f.name);
      if (!r->HasField(m, fd)) return std::nullopt;
      const pb::Message& link = r->GetMessage(m, fd);
      s->link = faults::Link{.a = ReadNode(link, "a"), .b = ReadNode(link, "b")};
      return std::nullopt;
    }
    case FieldType::kSides:
      s->side_a = ReadNodes(m, "side_a");
      s->side_b = ReadNodes(m, "side_b");
      return std::nullopt;
    case FieldType::kSubtask:
      s->subtask = r->GetString(m, Field(m, f.name));
      return std::nullopt;
    case FieldType::kRestart:
      s->never_restart = r->GetBool(m, Field(m, "never_restart"));
      return ReadDuration(path, r->GetString(m, Field(m, f.name)), &s->restart_after);
    case FieldType::kDuration:
      return ReadDuration(path, r->GetString(m, Field(m, f.name)), &(s->*f.duration));
    case FieldType::kFlag:
      s->*f.flag = r->GetBool(m, Field(m, f.name));
      return std::nullopt;
    case FieldType::kInt64:
      s->*f.int64 = r->GetInt64(m, Field(m, f.name));
      return std::nullopt;
    case FieldType::kEnum:
      s->*f.int64 = r->GetEnumValue(m, Field(m, f.name));
      return std::nullopt;
    case FieldType::kBytesFromEnd: {
      const pb::FieldDescriptor* fd = Field(m, f.name);
      if (r->HasField(m, fd)) s->bytes_from_end = r->GetUInt64(m, fd);
      return std::nullopt;
    }
    case FieldType::kRate: {
      const pb::FieldDescriptor* fd = Field(m, f.name);
      if (!fd->has_presence() || r->HasField(m, fd)) s->rate = r->GetDouble(m, fd);
      return std::nullopt;
    }
    case FieldType::kScope:
      return ReadScope(r->GetMessage(m, Field(m, f.name)), path, &s->scope);
  }
  return std::nullopt;
}

Issue ReadTrigger(const scenario::Trigger& t, const std::string& path, faults::Trigger* out) {
  *out = faults::Trigger{};
  if (t.when_case() == scenario::Trigger::kAt) {
    FL_RETURN_IF_ENGAGED(ReadDuration(path + ".at", t.at(), &out->at));
    if (!out->at) out->at = Duration::Zero();  // at: "" is the start
    return std::nullopt;
  }
  if (t.when_case() != scenario::Trigger::kOn) return std::nullopt;
  const scenario::EventTrigger& on = t.on();
  faults::EventTrigger e;
  e.event = on.event();
  if (on.has_checkpoint()) e.checkpoint = on.checkpoint();
  e.subtask = on.subtask();
  if (on.has_input()) e.input = on.input();
  if (on.has_occurrence()) e.occurrence = on.occurrence();
  FL_RETURN_IF_ENGAGED(ReadDuration(path + ".on.delay", on.delay(), &e.delay));
  out->on = std::move(e);
  return std::nullopt;
}

// ---- writing ---------------------------------------------------------------------------------

void WriteNode(pb::Message* m, std::string_view name, std::optional<uint32_t> node) {
  if (node) m->GetReflection()->SetUInt32(m, Field(*m, name), *node);
}

void WriteDuration(pb::Message* m, std::string_view name, std::optional<Duration> d) {
  if (d) m->GetReflection()->SetString(m, Field(*m, name), DurationText(*d));
}

void WriteScope(const faults::Scope& scope, pb::Message* m, std::string_view name) {
  if (scope == faults::Scope{}) return;
  pb::Message* out = m->GetReflection()->MutableMessage(m, Field(*m, name));
  const pb::Reflection* r = out->GetReflection();
  if (!scope.target_prefix.empty()) {
    r->SetString(out, Field(*out, "target_prefix"), scope.target_prefix);
  }
  WriteNode(out, "count", scope.count);
  WriteDuration(out, "duration", scope.duration);
}

void WriteField(const FaultSpec& s, const FaultField& f, pb::Message* m) {
  const pb::Reflection* r = m->GetReflection();
  switch (f.type) {
    case FieldType::kNode:
    case FieldType::kTaskManager:
      return WriteNode(m, f.name, s.node);
    case FieldType::kLink:
      if (s.link) {
        pb::Message* link = r->MutableMessage(m, Field(*m, f.name));
        WriteNode(link, "a", s.link->a);
        WriteNode(link, "b", s.link->b);
      }
      return;
    case FieldType::kSides:
      for (uint32_t n : s.side_a) r->AddUInt32(m, Field(*m, "side_a"), n);
      for (uint32_t n : s.side_b) r->AddUInt32(m, Field(*m, "side_b"), n);
      return;
    case FieldType::kSubtask:
      if (!s.subtask.empty()) r->SetString(m, Field(*m, f.name), s.subtask);
      return;
    case FieldType::kRestart:
      WriteDuration(m, f.name, s.restart_after);
      if (s.never_restart) r->SetBool(m, Field(*m, "never_restart"), true);
      return;
    case FieldType::kDuration:
      return WriteDuration(m, f.name, s.*f.duration);
    case FieldType::kFlag:
      if (s.*f.flag) r->SetBool(m, Field(*m, f.name), true);
      return;
    case FieldType::kInt64:
      if (s.*f.int64 != 0) r->SetInt64(m, Field(*m, f.name), s.*f.int64);
      return;
    case FieldType::kEnum:
      if (s.*f.int64 != 0) r->SetEnumValue(m, Field(*m, f.name), static_cast<int>(s.*f.int64));
      return;
    case FieldType::kBytesFromEnd:
      if (s.bytes_from_end) r->SetUInt64(m, Field(*m, f.name), *s.bytes_from_end);
      return;
    case FieldType::kRate:
      if (s.rate) r->SetDouble(m, Field(*m, f.name), *s.rate);
      return;
    case FieldType::kScope:
      return WriteScope(s.scope, m, f.name);
  }
}

void WriteTrigger(const faults::Trigger& t, scenario::Trigger* out) {
  if (t.at) out->set_at(DurationText(*t.at));
  if (!t.on) return;
  scenario::EventTrigger* on = out->mutable_on();
  on->set_event(t.on->event);
  if (t.on->checkpoint) on->set_checkpoint(*t.on->checkpoint);
  on->set_subtask(t.on->subtask);
  if (t.on->input) on->set_input(*t.on->input);
  if (t.on->occurrence) on->set_occurrence(*t.on->occurrence);
  if (t.on->delay) on->set_delay(DurationText(*t.on->delay));
}

void WriteEntry(const faults::PlanEntry& entry, scenario::Fault* out) {
  out->set_name(entry.name);
  WriteTrigger(entry.trigger, out->mutable_trigger());
  if (entry.ends_by) out->set_ends_by(DurationText(*entry.ends_by));
  const FaultSpec& s = entry.fault;
  pb::Message* kind = out->GetReflection()->MutableMessage(out, Field(*out, FaultKindName(s.kind)));
  for (const FaultField& field : faults::DescriptorOf(s.kind).fields) WriteField(s, field, kind);
}

void WriteNemesis(const faults::NemesisOptions& n, scenario::Nemesis* out) {
  if (n.fault_phase) out->set_fault_phase(DurationText(*n.fault_phase));
  if (n.quiet_phase) out->set_quiet_phase(DurationText(*n.quiet_phase));
  for (const faults::NemesisRate& rate : n.rates) {
    scenario::Rate* r = out->add_rates();
    r->set_kind(std::string(FaultKindName(rate.kind)));
    r->set_per_minute(rate.per_minute);
  }
  out->set_swarm(n.swarm);
}

}  // namespace

std::optional<PlanIssue> EntryFromProto(const scenario::Fault& fault, int index,
                                        faults::PlanEntry* entry) {
  const std::string path = "faults[" + std::to_string(index) + "]";
  *entry = faults::PlanEntry{};
  entry->name = fault.name();
  const pb::OneofDescriptor* oneof = scenario::Fault::descriptor()->FindOneofByName("kind");
  const pb::FieldDescriptor* kind_field =
      fault.GetReflection()->GetOneofFieldDescriptor(fault, oneof);
  if (kind_field == nullptr) {
    return PlanIssue{path, "no fault kind set (known: " + KnownKinds() + ")"};
  }
  const std::optional<faults::FaultKind> kind = faults::FaultKindFromName(kind_field->name());
  if (!kind) return PlanIssue{path, "fault kind " + kind_field->name() + " is not in the library"};
  entry->fault.kind = *kind;
  const pb::Message& m = fault.GetReflection()->GetMessage(fault, kind_field);
  const std::string kind_path = path + "." + kind_field->name();
  for (const FaultField& field : faults::DescriptorOf(*kind).fields) {
    FL_RETURN_IF_ENGAGED(ReadField(m, field, kind_path, &entry->fault));
  }
  FL_RETURN_IF_ENGAGED(ReadDuration(path + ".ends_by", fault.ends_by(), &entry->ends_by));
  return ReadTrigger(fault.trigger(), path + ".trigger", &entry->trigger);
}

std::optional<PlanIssue> NemesisFromProto(const scenario::Nemesis& nemesis,
                                          faults::NemesisOptions* options) {
  *options = faults::NemesisOptions{};
  FL_RETURN_IF_ENGAGED(
      ReadDuration("nemesis.fault_phase", nemesis.fault_phase(), &options->fault_phase));
  FL_RETURN_IF_ENGAGED(
      ReadDuration("nemesis.quiet_phase", nemesis.quiet_phase(), &options->quiet_phase));
  for (int i = 0; i < nemesis.rates_size(); ++i) {
    const scenario::Rate& rate = nemesis.rates(i);
    const std::optional<faults::FaultKind> kind = faults::FaultKindFromName(rate.kind());
    if (!kind) {
      return PlanIssue{
          "nemesis.rates[" + std::to_string(i) + "].kind",
          "unknown fault kind " + Quote(rate.kind()) + " (known: " + KnownKinds() + ")"};
    }
    options->rates.push_back({.kind = *kind, .per_minute = rate.per_minute()});
  }
  options->swarm = nemesis.swarm();
  return std::nullopt;
}

Result<faults::FaultPlan> FaultPlanFromProto(const scenario::Scenario& scenario) {
  faults::FaultPlan plan;
  auto fail = [](const PlanIssue& issue) {
    return InvalidArgumentError(issue.path + ": " + issue.message);
  };
  for (int i = 0; i < scenario.faults_size(); ++i) {
    faults::PlanEntry entry;
    if (Issue issue = EntryFromProto(scenario.faults(i), i, &entry)) return fail(*issue);
    plan.entries.push_back(std::move(entry));
  }
  if (scenario.has_nemesis()) {
    faults::NemesisOptions options;
    if (Issue issue = NemesisFromProto(scenario.nemesis(), &options)) return fail(*issue);
    plan.nemesis = std::move(options);
  }
  return plan;
}

void FaultPlanToProto(const faults::FaultPlan& plan, scenario::Scenario* scenario) {
  scenario->clear_faults();
  for (const faults::PlanEntry& entry : plan.entries) WriteEntry(entry, scenario->add_faults());
  scenario->clear_nemesis();
  if (plan.nemesis) WriteNemesis(*plan.nemesis, scenario->mutable_nemesis());
}

std::string FaultPlanToTextproto(const faults::FaultPlan& plan) {
  scenario::Scenario scenario;
  FaultPlanToProto(plan, &scenario);
  std::string text;
  pb::TextFormat::PrintToString(scenario, &text);
  return text;
}

}  // namespace faultline::scenarios
