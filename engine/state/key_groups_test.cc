#include "engine/state/key_groups.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace faultline::engine {
namespace {

TEST(KeyGroupsTest, DefaultMaxParallelismFollowsFlink) {
  EXPECT_EQ(DefaultMaxParallelism(1), 128u);
  EXPECT_EQ(DefaultMaxParallelism(4), 128u);
  EXPECT_EQ(DefaultMaxParallelism(100), 256u);    // 150 -> 256
  EXPECT_EQ(DefaultMaxParallelism(1000), 2048u);  // 1500 -> 2048
  EXPECT_EQ(DefaultMaxParallelism(30000), 32768u);
}

TEST(KeyGroupsTest, ValidatesParallelism) {
  EXPECT_TRUE(ValidateParallelism(4, 128).ok());
  EXPECT_EQ(ValidateParallelism(0, 128).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateParallelism(200, 128).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateParallelism(4, 40000).code(), StatusCode::kInvalidArgument);
}

TEST(KeyGroupsTest, RangesAreContiguousDisjointAndCoverEveryGroup) {
  for (uint32_t max_p : {1u, 7u, 128u, 1000u}) {
    for (uint32_t p = 1; p <= std::min(max_p, 17u); ++p) {
      KeyGroup next = 0;
      for (uint32_t i = 0; i < p; ++i) {
        const KeyGroupRange r = KeyGroupRangeForOperator(i, p, max_p);
        ASSERT_EQ(r.first, next) << "p=" << p << " max=" << max_p << " i=" << i;
        ASSERT_FALSE(r.empty());
        for (KeyGroup g = r.first; g <= r.last; ++g) {
          ASSERT_EQ(OperatorIndexForKeyGroup(g, p, max_p), i) << "group " << g;
        }
        next = r.last + 1;
      }
      ASSERT_EQ(next, max_p);
    }
  }
}

TEST(KeyGroupsTest, FlinkRangeExamples) {
  // max parallelism 128, parallelism 3: 43 + 42 + 43 groups, as Flink computes.
  EXPECT_EQ(KeyGroupRangeForOperator(0, 3, 128), KeyGroupRange::Of(0, 42));
  EXPECT_EQ(KeyGroupRangeForOperator(1, 3, 128), KeyGroupRange::Of(43, 85));
  EXPECT_EQ(KeyGroupRangeForOperator(2, 3, 128), KeyGroupRange::Of(86, 127));
}

TEST(KeyGroupsTest, SmallIntegerKeysSpreadOverGroups) {
  std::vector<int> counts(128, 0);
  for (uint32_t key = 0; key < 12800; ++key) ++counts[KeyGroupForHash(key, 128)];
  for (int c : counts) {
    EXPECT_GT(c, 50);
    EXPECT_LT(c, 150);
  }
  EXPECT_EQ(KeyGroupForKey("user-42", 128), KeyGroupForKey("user-42", 128));
}

TEST(KeyGroupsTest, RangeOperations) {
  const KeyGroupRange a = KeyGroupRange::Of(10, 20);
  EXPECT_EQ(a.size(), 11u);
  EXPECT_TRUE(a.Contains(10));
  EXPECT_FALSE(a.Contains(21));
  EXPECT_EQ(a.Intersect(KeyGroupRange::Of(15, 30)), KeyGroupRange::Of(15, 20));
  EXPECT_TRUE(a.Intersect(KeyGroupRange::Of(21, 30)).empty());
  EXPECT_EQ(KeyGroupRange{}.size(), 0u);
  EXPECT_EQ(a.ToString(), "[10, 20]");
}

}  // namespace
}  // namespace faultline::engine
