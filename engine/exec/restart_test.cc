#include "engine/exec/restart.h"

#include <gtest/gtest.h>

namespace faultline::engine {
namespace {

Time At(int64_t ms) {
  return Time::Zero() + Duration::Millis(ms);
}

TEST(RestartPolicyTest, FixedDelayGivesUpAfterItsAttempts) {
  RestartPolicy policy({.kind = RestartStrategy::Kind::kFixedDelay,
                        .max_attempts = 2,
                        .delay = Duration::Millis(300)});
  EXPECT_EQ(policy.OnFailure(At(0)), Duration::Millis(300));
  EXPECT_EQ(policy.OnFailure(At(1000)), Duration::Millis(300));
  EXPECT_EQ(policy.OnFailure(At(2000)), std::nullopt);
  EXPECT_NE(policy.reason().find("exhausted"), std::string::npos);
}

TEST(RestartPolicyTest, ExponentialDelayGrowsCapsAndResets) {
  RestartPolicy policy({.kind = RestartStrategy::Kind::kExponentialDelay,
                        .initial_backoff = Duration::Millis(100),
                        .max_backoff = Duration::Millis(500),
                        .multiplier_percent = 200,
                        .reset_threshold = Duration::Seconds(10)});
  EXPECT_EQ(policy.OnFailure(At(0)), Duration::Millis(100));
  EXPECT_EQ(policy.OnFailure(At(1000)), Duration::Millis(200));
  EXPECT_EQ(policy.OnFailure(At(2000)), Duration::Millis(400));
  EXPECT_EQ(policy.OnFailure(At(3000)), Duration::Millis(500));   // capped
  EXPECT_EQ(policy.OnFailure(At(20000)), Duration::Millis(100));  // quiet long enough: reset
}

TEST(RestartPolicyTest, FailureRateCountsOnlyTheWindow) {
  RestartPolicy policy({.kind = RestartStrategy::Kind::kFailureRate,
                        .delay = Duration::Millis(50),
                        .max_failures = 2,
                        .failure_interval = Duration::Seconds(10)});
  EXPECT_TRUE(policy.OnFailure(At(0)).has_value());
  EXPECT_TRUE(policy.OnFailure(At(5000)).has_value());
  EXPECT_TRUE(policy.OnFailure(At(11000)).has_value());  // the first fell out of the window
  EXPECT_FALSE(policy.OnFailure(At(12000)).has_value());
  EXPECT_NE(policy.reason().find("failure-rate"), std::string::npos);
}

TEST(RestartPolicyTest, NoneNeverRestarts) {
  RestartPolicy policy({.kind = RestartStrategy::Kind::kNone});
  EXPECT_FALSE(policy.OnFailure(At(0)).has_value());
}

}  // namespace
}  // namespace faultline::engine
