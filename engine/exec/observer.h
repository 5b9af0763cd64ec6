// A side channel for checkers: what each task processed, in order, and where its barriers and
// restores fell. An observer only records; it never steers the run, so installing one leaves
// the trace hash unchanged. Null outside tests and scenario runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "base/time.h"
#include "engine/api/record.h"

namespace faultline::engine {

class ProcessingObserver {
 public:
  virtual ~ProcessingObserver() = default;
  // Source task `task` of `attempt` emitted the record `id` (offset order per partition).
  virtual void OnSourceEmit(uint32_t task, uint64_t attempt, const RecordId& id) = 0;
  // Task `task` took `record` from its input channel `input` into its chain.
  virtual void OnProcess(uint32_t task, uint64_t attempt, uint32_t input, const Record& record) = 0;
  // Task `task` captured its state for checkpoint `checkpoint_id`: records it reported before
  // are in the snapshot, records after are not.
  virtual void OnSnapshot(uint32_t task, uint64_t attempt, uint64_t checkpoint_id) = 0;
  // Task `task` of `attempt` starts from checkpoint `checkpoint_id` (0: from scratch).
  virtual void OnStart(uint32_t task, uint64_t attempt, uint64_t checkpoint_id) = 0;
};

// What a buffer on the data plane is, as a viewer draws it.
struct BufferInfo {
  enum class Kind : uint8_t { kHandshake, kRecords, kBarrier, kEndOfData, kCancelMarker, kOther };
  Kind kind = Kind::kOther;
  uint32_t records = 0;     // kRecords: how many
  uint64_t checkpoint = 0;  // kBarrier, kCancelMarker: the checkpoint
  bool unaligned = false;   // kBarrier
  bool operator==(const BufferInfo&) const = default;
};

// One buffer queue of a task: output `index` (sealed buffers waiting for credit) or input
// `index` (received, not yet processed); `peer` is the task at the channel's other end (the
// consumer of an output, the producer of an input). Task indices are those of the attempt's
// plan generation.
struct QueueRef {
  uint32_t task = 0;
  uint64_t attempt = 0;
  bool output = false;
  uint32_t index = 0;
  uint32_t peer = 0;
  auto operator<=>(const QueueRef&) const = default;
};

// Why a buffer left a queue.
enum class BufferFate : uint8_t {
  kSent,       // output: handed to the network
  kProcessed,  // input: taken into the chain (or, for an aligned barrier, consumed in place)
  kDropped,    // replaced or discarded (a handshake to send again, a barrier made unaligned)
};

// A side channel for viewers (faultline-gui): how buffers move through the tasks' queues and the
// network. Like ProcessingObserver it only records, so the trace hash is the same with or
// without it. Positions count from the queue's front (0: next to leave).
class FlowObserver {
 public:
  virtual ~FlowObserver() = default;
  // `buffer` entered `queue` at position `at` (at == size before: at the back).
  virtual void OnQueued(const QueueRef& queue, size_t at, const BufferInfo& buffer) = 0;
  // The buffer at position `at` left `queue`.
  virtual void OnDequeued(const QueueRef& queue, size_t at, BufferFate fate) = 0;
  // The next buffer its producer (`input.peer`) sent on `input`'s channel arrived. `taken`:
  // handled on arrival (an unaligned barrier overtaking the queue); otherwise OnQueued on
  // `input` follows.
  virtual void OnArrived(const QueueRef& input, bool taken) = 0;
  // The simulated (world) time, set by whoever runs the world; observers that keep times read
  // it (a node's clock may be skewed).
  std::function<Time()> clock;
};

}  // namespace faultline::engine
