#include "base/status.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = DataLossError("blob cp-3/state-1 failed its checksum");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.ToString(), "DATA_LOSS: blob cp-3/state-1 failed its checksum");
  EXPECT_EQ(s.WithContext("restore").ToString(),
            "DATA_LOSS: restore: blob cp-3/state-1 failed its checksum");
}

TEST(StatusTest, EveryCodeHasAName) {
  for (Status s : {InvalidArgumentError("x"), NotFoundError("x"), UnavailableError("x"),
                   DataLossError("x"), DeadlineExceededError("x"), AbortedError("x"),
                   InternalError("x"), AlreadyExistsError("x"), FailedPreconditionError("x"),
                   ResourceExhaustedError("x"), OutOfRangeError("x"), CancelledError("x")}) {
    EXPECT_NE(StatusCodeName(s.code()), "UNKNOWN");
    EXPECT_NE(StatusCodeName(s.code()), "OK");
  }
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  FL_ASSIGN_OR_RETURN(int half, Half(x));
  FL_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(ResultTest, ValueAndErrorPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(ResultDeathTest, ValueOfErrorAsserts) {
  Result<int> r = NotFoundError("nothing");
  EXPECT_DEATH((void)r.value(), "value\\(\\) of an error Result");
}

}  // namespace
}  // namespace faultline
