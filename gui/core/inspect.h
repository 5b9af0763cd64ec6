// The inspector's view of one subtask at a moment: who it is (node, attempt, phase, its key
// groups), its state as of its last snapshot, and per input and per output channel what is
// queued or on the wire, which inputs its barrier came in on and which of them alignment
// blocks, whether it is back-pressured. Computed from the timeline's state and the flow's frame;
// Qt-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/time.h"
#include "gui/core/flow.h"
#include "gui/core/recording.h"
#include "gui/core/timeline.h"

namespace faultline::gui {

struct ChannelInspection {
  uint32_t index = 0;           // the input or output index
  std::string peer;             // the producer (an input) or the consumer (an output)
  uint32_t queued_buffers = 0;  // in this side's queue
  uint64_t queued_records = 0;
  uint32_t wire_buffers = 0;  // on the wire between the two
  uint64_t wire_records = 0;
  bool barrier_seen = false;  // inputs: the checkpoint being aligned came in on it
  bool blocked = false;       // inputs: alignment holds it
};

struct TaskInspection {
  bool found = false;  // a task of the plan generation running at the moment
  std::string name;
  uint32_t node = 0;
  uint64_t attempt = 0;
  TaskPhase phase = TaskPhase::kDeployed;
  Time since;
  int64_t aligning = 0;
  int64_t last_snapshot = 0;
  int64_t state_entries = 0;
  int64_t state_bytes = 0;
  std::string key_groups;  // "key groups 0-31 of 128"; empty for a task with no keyed state
  bool backpressured = false;
  std::vector<ChannelInspection> inputs;
  std::vector<ChannelInspection> outputs;
};

TaskInspection Inspect(const Recording& recording, const RunState& state, const FlowFrame& frame,
                       const std::string& task);

}  // namespace faultline::gui
