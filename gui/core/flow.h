// The data plane of a recorded run: every buffer (a batch of records, a barrier, a cancel
// marker, end of data) from the moment it entered its producer's output queue, through the
// network, to the moment its consumer took it, so the canvas can draw what is in flight at any
// simulated time: output queues waiting for credit (back-pressure), buffers on the wire at the
// fraction of their way they have covered, input queues (blocked by alignment or not), and an
// unaligned barrier overtaking queued data. Built by FlowRecorder from the engine's
// FlowObserver while the scenario runs; Qt-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <tuple>
#include <vector>

#include "base/time.h"
#include "engine/exec/observer.h"
#include "simulator/trace.h"

namespace faultline::gui {

inline constexpr uint32_t kNoTask = 0xffffffff;

struct FlowItem {
  engine::BufferInfo buffer;
  uint64_t attempt = 0;
  // Task indices of the attempt's plan generation.
  uint32_t producer = kNoTask;
  uint32_t consumer = kNoTask;
  uint32_t output = 0;            // the producer's output index
  uint32_t input = 0;             // the consumer's input index
  Time queued = Time::Max();      // entered the producer's output queue
  Time sent = Time::Max();        // handed to the network (Max: never)
  Time arrived = Time::Max();     // reached the consumer (Max: never)
  Time left = Time::Max();        // taken by the consumer, dropped, or its attempt ended
  bool taken_on_arrival = false;  // an unaligned barrier, handled as it arrived
  bool restored = false;          // replayed channel state: it starts in a queue
  Time start() const { return queued; }
  bool operator==(const FlowItem&) const = default;
};

// Where an item is at a given time.
struct InFlight {
  enum class Where : uint8_t { kOutputQueue, kNetwork, kInputQueue } where;
  // kNetwork: the fraction of its way covered (0..1); queues: its place from the front (0: the
  // next to leave).
  double position = 0;
  const FlowItem* item = nullptr;
};

// Per task at a given time.
struct TaskFlow {
  uint32_t output_queued = 0;     // buffers in its output queues
  uint32_t output_queue_max = 0;  // the longest of its output queues
  uint32_t input_queued = 0;      // buffers in its input queues
  bool backpressured = false;     // an output queue at its limit: the task waits for credit
};

struct FlowFrame {
  Time at;
  uint64_t attempt = 0;
  std::vector<InFlight> items;         // handshakes left out
  std::map<uint32_t, TaskFlow> tasks;  // by task index
  uint64_t records_in_flight = 0;      // records in every queue and on the wire
  size_t buffers_in_flight = 0;
};

class Flow {
 public:
  Flow() = default;
  // Takes the recorded items (in the order they started); `output_queue_max` is the engine's
  // back-pressure limit (EngineConfig::output_queue_max).
  Flow(std::vector<FlowItem> items, uint32_t output_queue_max);

  const std::vector<FlowItem>& items() const { return items_; }
  uint32_t output_queue_max() const { return output_queue_max_; }

  // What attempt `attempt` has in flight at `t`.
  FlowFrame FrameAt(Time t, uint64_t attempt) const;

 private:
  static constexpr size_t kBlock = 128;
  std::vector<FlowItem> items_;
  uint32_t output_queue_max_ = 0;
  std::vector<Time> block_end_;  // per block of kBlock items: the latest `left`
};

// Records a run's buffers as the engine reports them (install as RunOptions::flow_observer).
class FlowRecorder final : public engine::FlowObserver {
 public:
  void OnQueued(const engine::QueueRef& queue, size_t at,
                const engine::BufferInfo& buffer) override;
  void OnDequeued(const engine::QueueRef& queue, size_t at, engine::BufferFate fate) override;
  void OnArrived(const engine::QueueRef& input, bool taken) override;

  // The recorded flow. Items still queued or on the wire when their attempt ended (a restart,
  // a redeployment; from `records`, the run's trace) or when the run ended leave then.
  Flow Finish(const std::vector<sim::TraceRecord>& records, uint32_t output_queue_max) &&;

 private:
  Time Now() const { return clock ? clock() : Time::Zero(); }
  uint32_t NewItem(const FlowItem& item);

  std::vector<FlowItem> items_;
  std::map<engine::QueueRef, std::deque<uint32_t>> queues_;
  // (attempt, producer, consumer) -> items on the wire, oldest first.
  std::map<std::tuple<uint64_t, uint32_t, uint32_t>, std::deque<uint32_t>> wires_;
  std::map<engine::QueueRef, uint32_t> arriving_;  // arrived, about to be queued
};

}  // namespace faultline::gui
