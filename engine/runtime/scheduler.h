// Scheduling work on the calling process: timers and posted tasks. A task runs on the process
// that scheduled it, never concurrently with another task of that process, and never after the
// process crashed (its timers vanish with it).
#pragma once

#include "base/inline_function.h"
#include "base/time.h"
#include "engine/runtime/ids.h"

namespace faultline::runtime {

// 48 bytes of captures: enough for `this` and a few ids, without a heap allocation.
using Task = InlineFunction<void(), 48>;

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
