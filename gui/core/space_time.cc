#include "gui/core/space_time.h"

#include <map>
#include <optional>
#include <utility>

#include "engine/exec/events.h"

namespace faultline::gui {

SpaceTime BuildSpaceTime(const Recording& recording) {
  using engine::EngineEvent;
  SpaceTime out;
  std::map<std::string, size_t, std::less<>> lane_of;
  for (const ChainLayout& chain : recording.chains) {
    for (const std::vector<std::string>& tasks : chain.tasks_by_generation) {
      for (const std::string& name : tasks) {
        if (lane_of.try_emplace(name, out.lanes.size()).second) out.lanes.push_back(name);
      }
    }
  }
  uint32_t generation = 0;
  // (task, checkpoint) -> when it last emitted the checkpoint's barrier.
  std::map<std::pair<size_t, int64_t>, Time> emitted;
  // lane -> the alignment in progress (checkpoint, first barrier).
  std::map<size_t, std::pair<int64_t, Time>> aligning;
  for (const sim::TraceRecord& r : recording.records) {
    if (r.kind == sim::TraceKind::kNodeCrash) {
      out.lines.push_back(
          {r.time, SpaceTime::Line::Kind::kFault, "node " + std::to_string(r.node) + " crashed"});
      continue;
    }
    if (r.kind == sim::TraceKind::kNodeRestart) {
      out.lines.push_back(
          {r.time, SpaceTime::Line::Kind::kFault, "node " + std::to_string(r.node) + " restarted"});
      continue;
    }
    if (r.kind == sim::TraceKind::kFaultFired) {
      out.lines.push_back({r.time, SpaceTime::Line::Kind::kFault, r.detail});
      continue;
    }
    const std::optional<sim::EngineEventView> e = sim::EngineEventOf(r);
    if (!e) continue;
    if (e->event == EngineEvent::kDeployed) {
      generation = static_cast<uint32_t>(e->args.generation.value_or(0));
      aligning.clear();
      out.lines.push_back({r.time, SpaceTime::Line::Kind::kRecovery,
                           "attempt " + std::to_string(e->args.attempt.value_or(0))});
      continue;
    }
    auto lane = lane_of.find(r.detail);
    if (lane == lane_of.end()) continue;
    const int64_t checkpoint = e->args.checkpoint.value_or(0);
    switch (e->event) {
      case EngineEvent::kBarrierEmitted:
        emitted[{lane->second, checkpoint}] = r.time;
        break;
      case EngineEvent::kBarrierReceived: {
        if (generation < recording.inputs_by_generation.size()) {
          const auto& inputs = recording.inputs_by_generation[generation];
          auto producers = inputs.find(r.detail);
          const auto input = static_cast<size_t>(e->args.input.value_or(0));
          if (producers != inputs.end() && input < producers->second.size()) {
            auto from = lane_of.find(producers->second[input]);
            if (from != lane_of.end()) {
              auto sent = emitted.find({from->second, checkpoint});
              if (sent != emitted.end()) {
                out.arrows.push_back(
                    {from->second, lane->second, sent->second, r.time, checkpoint});
              }
            }
          }
        }
        auto [it, added] = aligning.try_emplace(lane->second, checkpoint, r.time);
        if (!added && it->second.first != checkpoint) it->second = {checkpoint, r.time};
        break;
      }
      case EngineEvent::kAligned:
      case EngineEvent::kAlignmentTimedOut:
        if (auto it = aligning.find(lane->second);
            it != aligning.end() && it->second.first == checkpoint) {
          out.spans.push_back({lane->second, it->second.second, r.time, checkpoint});
          aligning.erase(it);
        }
        break;
      case EngineEvent::kSnapshotCaptured:
        out.dots.push_back({lane->second, r.time, checkpoint});
        if (auto it = aligning.find(lane->second); it != aligning.end()) {
          if (it->second.first == checkpoint) {
            out.spans.push_back({lane->second, it->second.second, r.time, checkpoint});
          }
          aligning.erase(it);
        }
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace faultline::gui
