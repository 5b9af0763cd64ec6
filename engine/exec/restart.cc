#include "engine/exec/restart.h"

namespace faultline::engine {

std::string_view RestartStrategyName(RestartStrategy::Kind kind) {
  switch (kind) {
    case RestartStrategy::Kind::kFixedDelay:
      return "fixed-delay";
    case RestartStrategy::Kind::kExponentialDelay:
      return "exponential-delay";
    case RestartStrategy::Kind::kFailureRate:
      return "failure-rate";
    case RestartStrategy::Kind::kNone:
      return "none";
  }
  return "?";
}

std::optional<Duration> RestartPolicy::OnFailure(Time now) {
  switch (strategy_.kind) {
    case RestartStrategy::Kind::kNone:
      reason_ = "restart strategy none: the job fails at its first failure";
      return std::nullopt;
    case RestartStrategy::Kind::kFixedDelay:
      if (attempts_ >= strategy_.max_attempts) {
        reason_ = "fixed-delay restart strategy exhausted after " +
                  std::to_string(strategy_.max_attempts) + " restarts";
        return std::nullopt;
      }
      ++attempts_;
      return strategy_.delay;
    case RestartStrategy::Kind::kExponentialDelay: {
      if (!last_failure_ || now - *last_failure_ >= strategy_.reset_threshold) {
        backoff_ = strategy_.initial_backoff;
      } else {
        const int64_t next = backoff_.nanos() / 100 * strategy_.multiplier_percent;
        backoff_ = Duration::Nanos(
            next < strategy_.max_backoff.nanos() ? next : strategy_.max_backoff.nanos());
      }
      last_failure_ = now;
      ++attempts_;
      return backoff_;
    }
    case RestartStrategy::Kind::kFailureRate: {
      recent_.push_back(now);
      while (!recent_.empty() && now - recent_.front() > strategy_.failure_interval) {
        recent_.pop_front();
      }
      if (recent_.size() > strategy_.max_failures) {
        reason_ = "failure-rate restart strategy: " + std::to_string(recent_.size()) +
                  " failures within " + strategy_.failure_interval.ToString();
        return std::nullopt;
      }
      ++attempts_;
      return strategy_.delay;
    }
  }
  return std::nullopt;
}

}  // namespace faultline::engine
