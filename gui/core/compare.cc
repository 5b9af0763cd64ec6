#include "gui/core/compare.h"

#include <algorithm>
#include <set>

namespace faultline::gui {
namespace {

bool Same(const sim::TraceRecord& a, const sim::TraceRecord& b) {
  return a.time == b.time && a.kind == b.kind && a.node == b.node &&
         a.incarnation == b.incarnation && a.args == b.args && a.detail == b.detail;
}

std::string Nodes(const std::set<uint32_t>& nodes) {
  std::string out;
  for (uint32_t n : nodes) out += (out.empty() ? "" : ", ") + std::to_string(n);
  return out.empty() ? "none" : out;
}

std::string TaskText(const TaskState& t) {
  std::string out(TaskPhaseName(t.phase));
  if (t.aligning != 0) out += ", aligning " + std::to_string(t.aligning);
  if (t.last_snapshot != 0) out += ", last snapshot " + std::to_string(t.last_snapshot);
  return out;
}

std::string CheckpointText(const CheckpointRow& row) {
  return std::string(CheckpointStatusName(row.status)) + ", " + std::to_string(row.acknowledged) +
         "/" + std::to_string(row.expected) + " acknowledged";
}

}  // namespace

std::optional<Divergence> FirstDivergence(const Recording& a, const Recording& b) {
  const size_t common = std::min(a.records.size(), b.records.size());
  size_t i = 0;
  while (i < common && Same(a.records[i], b.records[i])) ++i;
  if (i == a.records.size() && i == b.records.size()) return std::nullopt;
  Divergence d;
  d.record = i;
  if (i < a.records.size()) d.here = sim::FormatTraceRecord(a.records[i]);
  if (i < b.records.size()) d.there = sim::FormatTraceRecord(b.records[i]);
  if (i < a.records.size() && i < b.records.size()) {
    d.at = std::min(a.records[i].time, b.records[i].time);
  } else {
    d.at = i < a.records.size() ? a.records[i].time : b.records[i].time;
  }
  return d;
}

std::vector<StateDifference> CompareStates(const RunState& here, const RunState& there) {
  std::vector<StateDifference> out;
  if (here.job_status != there.job_status)
    out.push_back({"job", here.job_status, there.job_status});
  if (here.attempt != there.attempt) {
    out.push_back({"attempt", std::to_string(here.attempt), std::to_string(there.attempt)});
  }
  if (here.generation != there.generation) {
    out.push_back(
        {"plan generation", std::to_string(here.generation), std::to_string(there.generation)});
  }
  if (here.nodes_down != there.nodes_down) {
    out.push_back({"nodes down", Nodes(here.nodes_down), Nodes(there.nodes_down)});
  }
  if (here.latest_completed != there.latest_completed) {
    out.push_back({"latest completed checkpoint", std::to_string(here.latest_completed),
                   std::to_string(there.latest_completed)});
  }
  std::set<std::string> tasks;
  for (const auto& [name, t] : here.tasks) tasks.insert(name);
  for (const auto& [name, t] : there.tasks) tasks.insert(name);
  for (const std::string& name : tasks) {
    const auto a = here.tasks.find(name);
    const auto b = there.tasks.find(name);
    const std::string ta = a == here.tasks.end() ? "(none)" : TaskText(a->second);
    const std::string tb = b == there.tasks.end() ? "(none)" : TaskText(b->second);
    if (ta != tb) out.push_back({"task " + name, ta, tb});
  }
  std::set<int64_t> ids;
  for (const auto& [id, row] : here.checkpoints) ids.insert(id);
  for (const auto& [id, row] : there.checkpoints) ids.insert(id);
  for (int64_t id : ids) {
    const auto a = here.checkpoints.find(id);
    const auto b = there.checkpoints.find(id);
    const std::string ta = a == here.checkpoints.end() ? "(none)" : CheckpointText(a->second);
    const std::string tb = b == there.checkpoints.end() ? "(none)" : CheckpointText(b->second);
    if (ta != tb) out.push_back({"checkpoint " + std::to_string(id), ta, tb});
  }
  return out;
}

}  // namespace faultline::gui
