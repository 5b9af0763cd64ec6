#include "base/text.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

TEST(QuoteTest, EscapesAndCuts) {
  EXPECT_EQ(Quote("sum#2"), "\"sum#2\"");
  EXPECT_EQ(Quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\x0a\"");
  EXPECT_EQ(Quote(std::string(81, 'x')), "\"" + std::string(80, 'x') + "...\"");
}

TEST(DurationTextTest, ExactInTheLargestUnitThatDividesIt) {
  EXPECT_EQ(DurationText(Duration::Zero()), "0");
  EXPECT_EQ(DurationText(Duration::Millis(250)), "250ms");
  EXPECT_EQ(DurationText(Duration::Millis(1500)), "1500ms");
  EXPECT_EQ(DurationText(Duration::Seconds(120)), "2m");
  EXPECT_EQ(DurationText(Duration::Seconds(7200)), "2h");
  EXPECT_EQ(DurationText(Duration::Millis(-200)), "-200ms");
  EXPECT_EQ(DurationText(Duration::Nanos(1'000'001)), "1000001ns");
  EXPECT_EQ(DurationText(Duration::Micros(3)), "3us");
}

}  // namespace
}  // namespace faultline
