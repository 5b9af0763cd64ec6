#include "base/bytes.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

namespace faultline {
namespace {

// Every length up to past the inline cases, at every offset of a window: exactly the n bytes
// are copied, and nothing around them is touched.
TEST(CopyBytesTest, CopiesExactlyNBytes) {
  std::array<uint8_t, 64> source;
  for (size_t i = 0; i < source.size(); ++i) source[i] = static_cast<uint8_t>(i * 7 + 1);
  for (size_t n = 0; n <= 40; ++n) {
    for (size_t at = 0; at < 8; ++at) {
      std::array<uint8_t, 64> target;
      target.fill(0xEE);
      CopyBytes(target.data() + at, source.data() + 3, n);
      for (size_t i = 0; i < target.size(); ++i) {
        const bool inside = i >= at && i < at + n;
        ASSERT_EQ(target[i], inside ? source[3 + i - at] : 0xEE) << "n " << n << " at " << at;
      }
    }
  }
}

// Every length up to past the word cases, equal and differing in each single byte.
TEST(EqualBytesTest, ComparesEveryByte) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'x');
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + (i * 5) % 26);
    const std::string b = a;
    EXPECT_TRUE(EqualBytes(a, b)) << n;
    for (size_t i = 0; i < n; ++i) {
      std::string c = a;
      c[i] = static_cast<char>(c[i] ^ 0x20);
      EXPECT_FALSE(EqualBytes(a, c)) << n << " differing at " << i;
    }
    EXPECT_FALSE(EqualBytes(a, a + "!")) << n;
  }
}

}  // namespace
}  // namespace faultline
