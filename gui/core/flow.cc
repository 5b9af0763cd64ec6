#include "gui/core/flow.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "engine/exec/events.h"

namespace faultline::gui {

using engine::BufferInfo;

Flow::Flow(std::vector<FlowItem> items, uint32_t output_queue_max)
    : items_(std::move(items)), output_queue_max_(output_queue_max) {
  for (size_t b = 0; b < items_.size(); b += kBlock) {
    Time end = Time::Zero();
    for (size_t i = b; i < std::min(items_.size(), b + kBlock); ++i) {
      end = std::max(end, items_[i].left);
    }
    block_end_.push_back(end);
  }
}

FlowFrame Flow::FrameAt(Time t, uint64_t attempt) const {
  FlowFrame frame;
  frame.at = t;
  frame.attempt = attempt;
  // Queues by (task, side, index), to number their items from the front.
  std::map<std::tuple<uint32_t, bool, uint32_t>, std::vector<size_t>> queues;
  for (size_t b = 0; b < block_end_.size(); ++b) {
    const size_t first = b * kBlock;
    if (items_[first].start() > t) break;  // items are in the order they started
    if (block_end_[b] <= t) continue;
    for (size_t i = first; i < std::min(items_.size(), first + kBlock); ++i) {
      const FlowItem& item = items_[i];
      if (item.attempt != attempt || item.start() > t || item.left <= t) continue;
      if (item.buffer.kind == BufferInfo::Kind::kHandshake) continue;
      InFlight f{InFlight::Where::kOutputQueue, 0, &item};
      if (t >= item.arrived) {
        f.where = InFlight::Where::kInputQueue;
        queues[{item.consumer, false, item.input}].push_back(frame.items.size());
      } else if (t >= item.sent) {
        f.where = InFlight::Where::kNetwork;
        const Time arrival = item.arrived == Time::Max() ? item.left : item.arrived;
        const double span = static_cast<double>((arrival - item.sent).nanos());
        f.position =
            span <= 0 ? 1.0
                      : std::clamp(static_cast<double>((t - item.sent).nanos()) / span, 0.0, 1.0);
      } else {
        queues[{item.producer, true, item.output}].push_back(frame.items.size());
      }
      frame.records_in_flight += item.buffer.records;
      frame.items.push_back(f);
    }
  }
  frame.buffers_in_flight = frame.items.size();
  for (auto& [queue, members] : queues) {
    const auto& [task, output, index] = queue;
    // The next to leave is the one that left first (an output's items leave when sent).
    const auto leaves = [&](size_t k) {
      const FlowItem& item = *frame.items[k].item;
      return output ? std::min(item.sent, item.left) : item.left;
    };
    std::stable_sort(members.begin(), members.end(),
                     [&](size_t a, size_t b) { return leaves(a) < leaves(b); });
    for (size_t k = 0; k < members.size(); ++k) {
      frame.items[members[k]].position = static_cast<double>(k);
    }
    TaskFlow& tf = frame.tasks[task];
    const auto n = static_cast<uint32_t>(members.size());
    if (output) {
      tf.output_queued += n;
      tf.output_queue_max = std::max(tf.output_queue_max, n);
      if (output_queue_max_ > 0 && n >= output_queue_max_) tf.backpressured = true;
    } else {
      tf.input_queued += n;
    }
  }
  return frame;
}

uint32_t FlowRecorder::NewItem(const FlowItem& item) {
  items_.push_back(item);
  return static_cast<uint32_t>(items_.size() - 1);
}

void FlowRecorder::OnQueued(const engine::QueueRef& queue, size_t at, const BufferInfo& buffer) {
  const Time now = Now();
  std::deque<uint32_t>& mirror = queues_[queue];
  uint32_t id = 0;
  if (queue.output) {
    FlowItem item;
    item.buffer = buffer;
    item.attempt = queue.attempt;
    item.producer = queue.task;
    item.consumer = queue.peer;
    item.output = queue.index;
    item.queued = now;
    id = NewItem(item);
  } else if (auto it = arriving_.find(queue); it != arriving_.end()) {
    id = it->second;
    arriving_.erase(it);
  } else {
    // Not from the wire: replayed channel state starts in the input queue.
    FlowItem item;
    item.buffer = buffer;
    item.attempt = queue.attempt;
    item.producer = queue.peer;
    item.consumer = queue.task;
    item.input = queue.index;
    item.queued = item.sent = item.arrived = now;
    item.restored = true;
    id = NewItem(item);
  }
  FL_ASSERT(at <= mirror.size(), "a buffer queued past the end of its queue");
  mirror.insert(mirror.begin() + static_cast<std::ptrdiff_t>(at), id);
}

void FlowRecorder::OnDequeued(const engine::QueueRef& queue, size_t at, engine::BufferFate fate) {
  std::deque<uint32_t>& mirror = queues_[queue];
  FL_ASSERT(at < mirror.size(), "a buffer dequeued from past the end of its queue");
  const uint32_t id = mirror[at];
  mirror.erase(mirror.begin() + static_cast<std::ptrdiff_t>(at));
  FlowItem& item = items_[id];
  const Time now = Now();
  if (queue.output && fate == engine::BufferFate::kSent) {
    item.sent = now;
    // The handshake is consumed before the consumer knows the channel: it never "arrives".
    if (item.buffer.kind == BufferInfo::Kind::kHandshake) {
      item.left = now;
      return;
    }
    wires_[{queue.attempt, queue.task, queue.peer}].push_back(id);
    return;
  }
  item.left = now;
}

void FlowRecorder::OnArrived(const engine::QueueRef& input, bool taken) {
  auto wire = wires_.find({input.attempt, input.peer, input.task});
  if (wire == wires_.end() || wire->second.empty()) return;  // not sent as we saw it
  const uint32_t id = wire->second.front();
  wire->second.pop_front();
  FlowItem& item = items_[id];
  const Time now = Now();
  item.arrived = now;
  item.input = input.index;
  if (taken) {
    item.left = now;
    item.taken_on_arrival = true;
    return;
  }
  arriving_[input] = id;
}

Flow FlowRecorder::Finish(const std::vector<sim::TraceRecord>& records,
                          uint32_t output_queue_max) && {
  // When each attempt ended: its job restart, or the next attempt's deployment.
  std::map<uint64_t, Time> deployed;
  std::vector<Time> restarts;
  for (const sim::TraceRecord& r : records) {
    const std::optional<sim::EngineEventView> e = sim::EngineEventOf(r);
    if (!e) continue;
    if (e->event == engine::EngineEvent::kDeployed) {
      deployed.emplace(static_cast<uint64_t>(e->args.attempt.value_or(0)), r.time);
    } else if (e->event == engine::EngineEvent::kJobRestart) {
      restarts.push_back(r.time);
    }
  }
  const Time run_end = records.empty() ? Time::Zero() : records.back().time;
  std::map<uint64_t, Time> ends;
  for (auto it = deployed.begin(); it != deployed.end(); ++it) {
    Time end = run_end;
    if (auto next = std::next(it); next != deployed.end()) end = next->second;
    const auto restart = std::upper_bound(restarts.begin(), restarts.end(), it->second);
    if (restart != restarts.end()) end = std::min(end, *restart);
    ends[it->first] = end;
  }
  for (FlowItem& item : items_) {
    if (item.left != Time::Max()) continue;
    const auto end = ends.find(item.attempt);
    item.left = std::max(item.start(), end == ends.end() ? run_end : end->second);
  }
  return Flow(std::move(items_), output_queue_max);
}

}  // namespace faultline::gui
