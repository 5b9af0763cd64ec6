// Scheduling work on the calling process: timers and posted tasks. A task runs on the process
// that scheduled it, never concurrently with another task of that process, and never after the
// process crashed (its timers vanish with it).
#pragma once

#include "base/inline_function.h"
#include "base/time.h"
#include "engine/runtime/ids.h"

namespace faultline::runtime {

// 40 bytes of captures (pointer-aligned): enough for `this` and a few ids, without a heap
// allocation. The simulator keeps a pending event in one 64-byte cache line because of it.
using Task = InlineFunction<void(), 40>;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Runs `task` after `delay` (>= 0) of the node's local time.
  virtual TimerId ScheduleAfter(Duration delay, Task task) = 0;
  // Cancels a timer that has not fired; returns false when it already fired or was cancelled.
  virtual bool Cancel(TimerId timer) = 0;
  // Runs `task` as soon as possible, after the current task.
  TimerId Post(Task task) { return ScheduleAfter(Duration::Zero(), std::move(task)); }
};

}  // namespace faultline::runtime
