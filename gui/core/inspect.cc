#include "gui/core/inspect.h"

#include <algorithm>

namespace faultline::gui {

TaskInspection Inspect(const Recording& recording, const RunState& state, const FlowFrame& frame,
                       const std::string& task) {
  TaskInspection out;
  out.name = task;
  if (state.generation >= recording.task_names_by_generation.size()) return out;
  const std::vector<std::string>& names = recording.task_names_by_generation[state.generation];
  const auto at = std::find(names.begin(), names.end(), task);
  if (at == names.end()) return out;
  out.found = true;
  const auto index = static_cast<uint32_t>(at - names.begin());
  if (auto t = state.tasks.find(task); t != state.tasks.end()) {
    out.node = t->second.node;
    out.attempt = t->second.attempt;
    out.phase = t->second.phase;
    out.since = t->second.since;
    out.aligning = t->second.aligning;
    out.last_snapshot = t->second.last_snapshot;
    out.state_entries = t->second.state_entries;
    out.state_bytes = t->second.state_bytes;
  }
  if (state.generation < recording.key_groups_by_generation.size()) {
    const auto& groups = recording.key_groups_by_generation[state.generation];
    if (auto g = groups.find(task); g != groups.end()) out.key_groups = g->second;
  }
  // Inputs, in input-channel order, named by their producers.
  std::vector<std::string> producers;
  if (state.generation < recording.inputs_by_generation.size()) {
    const auto& inputs = recording.inputs_by_generation[state.generation];
    if (auto i = inputs.find(task); i != inputs.end()) producers = i->second;
  }
  const auto t = state.tasks.find(task);
  for (uint32_t i = 0; i < producers.size(); ++i) {
    ChannelInspection c;
    c.index = i;
    c.peer = producers[i];
    if (t != state.tasks.end()) {
      c.barrier_seen = t->second.barrier_inputs.contains(i);
      c.blocked =
          c.barrier_seen && recording.blocking_alignment && t->second.phase == TaskPhase::kAligning;
    }
    out.inputs.push_back(c);
  }
  // Outputs, in output order: the consumers as the producer's items name them.
  std::map<uint32_t, ChannelInspection> outputs;
  for (const InFlight& f : frame.items) {
    const FlowItem& item = *f.item;
    if (item.consumer == index) {
      // A buffer on the wire knows its input only once it arrived: find it by its producer.
      ChannelInspection* in = nullptr;
      if (f.where == InFlight::Where::kInputQueue && item.input < out.inputs.size()) {
        in = &out.inputs[item.input];
      } else if (f.where == InFlight::Where::kNetwork && item.producer < names.size()) {
        for (ChannelInspection& c : out.inputs) {
          if (c.peer == names[item.producer]) in = &c;
        }
      }
      if (in != nullptr && f.where == InFlight::Where::kInputQueue) {
        ++in->queued_buffers;
        in->queued_records += item.buffer.records;
      } else if (in != nullptr) {
        ++in->wire_buffers;
        in->wire_records += item.buffer.records;
      }
    }
    if (item.producer == index) {
      ChannelInspection& o = outputs[item.output];
      o.index = item.output;
      if (item.consumer < names.size()) o.peer = names[item.consumer];
      if (f.where == InFlight::Where::kOutputQueue) {
        ++o.queued_buffers;
        o.queued_records += item.buffer.records;
      } else if (f.where == InFlight::Where::kNetwork) {
        ++o.wire_buffers;
        o.wire_records += item.buffer.records;
      }
    }
  }
  for (auto& [o, c] : outputs) out.outputs.push_back(c);
  if (auto f = frame.tasks.find(index); f != frame.tasks.end()) {
    out.backpressured = f->second.backpressured;
  }
  return out;
}

}  // namespace faultline::gui
