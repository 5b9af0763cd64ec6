#include "base/inline_function.h"

#include <gtest/gtest.h>

#include <memory>

namespace faultline {
namespace {

TEST(InlineFunctionTest, CallsAndMoves) {
  int calls = 0;
  InlineFunction<int(int)> f = [&calls](int x) {
    ++calls;
    return x * 2;
  };
  EXPECT_EQ(f(21), 42);
  InlineFunction<int(int)> g = std::move(f);
  EXPECT_FALSE(static_cast<bool>(f));  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(g(1), 2);
  EXPECT_EQ(calls, 2);
}

TEST(InlineFunctionTest, DestroysCapturesExactlyOnce) {
  auto token = std::make_shared<int>(5);
  {
    InlineFunction<int()> f = [token] { return *token; };
    EXPECT_EQ(token.use_count(), 2);
    InlineFunction<int()> g = std::move(f);
    EXPECT_EQ(token.use_count(), 2);
    EXPECT_EQ(g(), 5);
    g = nullptr;
    EXPECT_EQ(token.use_count(), 1);
  }
  EXPECT_EQ(token.use_count(), 1);
}

TEST(InlineFunctionTest, MoveOnlyCaptures) {
  auto owned = std::make_unique<int>(9);
  InlineFunction<int()> f = [p = std::move(owned)] { return *p; };
  EXPECT_EQ(f(), 9);
}

}  // namespace
}  // namespace faultline
