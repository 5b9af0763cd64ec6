// Restart strategies, as Flink names them: after a failure, wait and restart the job from the
// latest completed checkpoint, or give up. Deterministic (no jitter): the engine draws no
// random numbers of its own.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "base/time.h"

namespace faultline::engine {

struct RestartStrategy {
  enum class Kind : uint8_t { kFixedDelay, kExponentialDelay, kFailureRate, kNone };
  Kind kind = Kind::kFixedDelay;
  // fixed-delay: at most `max_attempts` restarts, each after `delay`.
  uint32_t max_attempts = UINT32_MAX;
  Duration delay = Duration::Millis(500);
  // exponential-delay: backoff starts at `initial_backoff`, multiplies by `multiplier` up to
  // `max_backoff`, and resets after `reset_threshold` without failure.
  Duration initial_backoff = Duration::Millis(100);
  Duration max_backoff = Duration::Seconds(10);
  uint32_t multiplier_percent = 200;
  Duration reset_threshold = Duration::Seconds(60);
  // failure-rate: give up when more than `max_failures` happen within `failure_interval`.
  uint32_t max_failures = 3;
  Duration failure_interval = Duration::Seconds(60);
};

std::string_view RestartStrategyName(RestartStrategy::Kind kind);

// Decides, failure by failure, whether and when to restart.
class RestartPolicy {
 public:
  explicit RestartPolicy(RestartStrategy strategy) : strategy_(strategy) {}
  // Called at each failure (at `now`): the delay before restarting, or nullopt to give up.
  std::optional<Duration> OnFailure(Time now);
  // Why the last OnFailure gave up.
  const std::string& reason() const { return reason_; }

 private:
  RestartStrategy strategy_;
  uint32_t attempts_ = 0;
  Duration backoff_;
  std::optional<Time> last_failure_;
  std::deque<Time> recent_;
  std::string reason_;
};

}  // namespace faultline::engine
