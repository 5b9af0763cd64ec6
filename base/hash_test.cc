#include "base/hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace faultline {
namespace {

TEST(HashTest, StableAcrossRuns) {
  // Golden values: a trace hash is promised stable for a build; these pin the function itself.
  EXPECT_EQ(Hash64(std::string_view("faultline")), Hash64(std::string_view("faultline")));
  EXPECT_NE(Hash64(std::string_view("faultline")), Hash64(std::string_view("faultlinf")));
  EXPECT_NE(Hash64(std::string_view("x"), 1), Hash64(std::string_view("x"), 2));
}

TEST(HashTest, ChecksumDetectsABitFlip) {
  std::string data(4096, 'a');
  auto bytes = [&] { return std::as_bytes(std::span<const char>(data.data(), data.size())); };
  const uint64_t before = Checksum(bytes());
  data[1234] = static_cast<char>(data[1234] ^ 0x10);
  EXPECT_NE(before, Checksum(bytes()));
}

TEST(HashCombineTest, NoCollisionsOnStructuredInputs) {
  // Small, structured pairs (partition, offset) are where weak combines collide.
  std::set<uint64_t> seen;
  for (uint64_t a = 0; a < 64; ++a) {
    for (uint64_t b = 0; b < 4096; ++b) ASSERT_TRUE(seen.insert(HashCombine(a, b)).second);
  }
  EXPECT_NE(HashCombine(1, 2), HashCombine(2, 1));
}

TEST(HasherTest, FieldBoundariesMatter) {
  // ("ab", "c") and ("a", "bc") must differ: lengths are part of the layout.
  EXPECT_NE(Hasher().Text("ab").Text("c").Finish(), Hasher().Text("a").Text("bc").Finish());
  EXPECT_EQ(Hasher().U64(1).U64(2).Finish(), Hasher().U64(1).U64(2).Finish());
  EXPECT_NE(Hasher().U64(1).U64(2).Finish(), Hasher().U64(2).U64(1).Finish());
}

TEST(HasherTest, Finish128CoversTheSameInputInBothHalves) {
  const Hash128 a = Hasher().Text("sum").Text("").U64(41).Finish128();
  EXPECT_EQ(a, Hasher().Text("sum").Text("").U64(41).Finish128());
  const Hash128 b = Hasher().Text("sum").Text("").U64(42).Finish128();
  EXPECT_NE(a.low, b.low);
  EXPECT_NE(a.high, b.high);
  EXPECT_NE(a.low, a.high);
  // Past the buffer the earlier pieces still count.
  std::string long_text(1000, 'z');
  const Hash128 c = Hasher().Text(long_text).U64(1).Finish128();
  long_text[3] = 'y';
  EXPECT_NE(c, Hasher().Text(long_text).U64(1).Finish128());
}

TEST(HasherTest, LongInputsSpillAcrossTheBuffer) {
  std::string long_text(1000, 'z');
  const uint64_t a = Hasher().U64(7).Text(long_text).U64(9).Finish();
  long_text[999] = 'y';
  const uint64_t b = Hasher().U64(7).Text(long_text).U64(9).Finish();
  EXPECT_NE(a, b);
  uint64_t many = 0;
  Hasher h;
  for (int i = 0; i < 100; ++i) h.U64(static_cast<uint64_t>(i));
  many = h.Finish();
  Hasher h2;
  for (int i = 0; i < 100; ++i) h2.U64(static_cast<uint64_t>(i == 57 ? 0 : i));
  EXPECT_NE(many, h2.Finish());
}

}  // namespace
}  // namespace faultline

namespace faultline {
namespace {

TEST(ChecksumStreamTest, EqualsTheOneShotChecksumAfterEveryPiece) {
  std::vector<std::byte> data(5000);
  uint64_t x = 0x1234;
  for (std::byte& b : data) {
    x = Mix64(x + 1);
    b = static_cast<std::byte>(x);
  }
  const std::span<const std::byte> all(data);
  EXPECT_EQ(ChecksumStream().Value(), Checksum({}));
  // Pieces of many sizes, including the XXH3 short, medium and long input paths.
  for (const size_t piece : {size_t{1}, size_t{7}, size_t{100}, size_t{239}, size_t{1024}}) {
    ChecksumStream stream;
    for (size_t at = 0; at < data.size(); at += piece) {
      const size_t n = std::min(piece, data.size() - at);
      stream.Add(all.subspan(at, n));
      ASSERT_EQ(stream.Value(), Checksum(all.first(at + n))) << piece << " " << at;
    }
  }
}

}  // namespace
}  // namespace faultline
