// The node-local clock. Each process has its own, so clocks can be skewed and drift; nothing in
// the engine reads the operating system's clock.
#pragma once

#include "base/time.h"

namespace faultline::runtime {

class Clock {
 public:
  virtual ~Clock() = default;
  // The node's local time: monotonic non-decreasing for one incarnation of a process.
  virtual Time Now() const = 0;
};

}  // namespace faultline::runtime
