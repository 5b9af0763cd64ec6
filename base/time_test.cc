#include "base/time.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

TEST(TimeTest, ArithmeticInNanoseconds) {
  const Time t = Time::Zero() + Duration::Millis(1500);
  EXPECT_EQ(t.nanos(), 1'500'000'000);
  EXPECT_EQ((t - Time::Zero()), Duration::Seconds(1) + Duration::Millis(500));
  EXPECT_LT(Duration::Micros(999), Duration::Millis(1));
  EXPECT_EQ(Duration::Seconds(2) / 4, Duration::Millis(500));
}

TEST(TimeTest, Formatting) {
  EXPECT_EQ(Duration::Millis(20).ToString(), "20ms");
  EXPECT_EQ(Duration::Millis(1500).ToString(), "1.5s");
  EXPECT_EQ(Duration::Nanos(7).ToString(), "7ns");
  EXPECT_EQ(Duration::Micros(3).ToString(), "3us");
  EXPECT_EQ(Time::FromNanos(12'345'678'901).ToString(), "12.345678901s");
}

}  // namespace
}  // namespace faultline
