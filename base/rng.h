// Deterministic randomness. One seed per run; each component draws from its own stream, forked
// from the run's seed by a stable name, so adding a component never shifts another's draws.
// Generator: xoshiro256** seeded through splitmix64. Distributions are our own: the standard
// library's differ between implementations, and a trace hash must not.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <string_view>

#include "base/assert.h"
#include "base/time.h"

namespace faultline {

// The natural logarithm of a positive, normal double, in plain arithmetic (no libm), so that
// distributions built on it give the same draws on every platform, and usable at compile time.
// Accurate to ~1e-13.
constexpr double Log(double x) {
  FL_ASSERT(x > 0.0 && x < 1e300, "Log takes a positive, finite argument");
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172,
  // summed to s^13 (error below 1e-13 relative).
  auto bits = std::bit_cast<uint64_t>(x);
  int64_t exponent = static_cast<int64_t>((bits >> 52) & 0x7ff) - 1023;
  FL_ASSERT(exponent > -1023, "subnormal argument");
  bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;  // m in [1, 2)
  auto m = std::bit_cast<double>(bits);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    ++exponent;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  const double series =
      1.0 +
      s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 / 13)))));
  return static_cast<double>(exponent) * 0.6931471805599453 + 2.0 * s * series;
}

class Rng {
 public:
  explicit Rng(uint64_t seed);

  // An independent stream named `name`, derived from this stream's seed (not its position):
  // forking the same name twice gives the same stream, whatever was drawn in between.
  Rng Fork(std::string_view name) const;
  Rng Fork(uint64_t index) const;

  uint64_t seed() const { return seed_; }

  uint64_t NextU64();

  // Uniform in [0, bound); bound > 0. Unbiased (Lemire's multiply-and-reject).
  uint64_t UniformU64(uint64_t bound);
  // Uniform in [lo, hi], inclusive; lo <= hi.
  int64_t UniformInt(int64_t lo, int64_t hi);
  // Uniform in [0, 1) with 53 random bits.
  double UniformDouble();
  // True with probability p (clamped to [0, 1]).
  bool Bernoulli(double p);
  // Exponentially distributed with the given mean (> 0).
  double Exponential(double mean);
  // A duration drawn from an exponential distribution with the given mean, in whole nanoseconds.
  Duration ExponentialDuration(Duration mean);
  // Uniform duration in [lo, hi].
  Duration UniformDuration(Duration lo, Duration hi);

 private:
  uint64_t seed_;
  std::array<uint64_t, 4> state_;
};

// Zipf-distributed ranks in [0, n): rank k is drawn with probability proportional to
// 1 / (k + 1)^exponent. Rejection-inversion sampling (Hormann and Derflinger, 1996): O(1) per
// draw, no table.
class ZipfDistribution {
 public:
  ZipfDistribution(uint64_t n, double exponent);
  uint64_t Sample(Rng& rng) const;

 private:
  double H(double x) const;
  double HInverse(double x) const;
  double h(double x) const;

  uint64_t n_;
  double exponent_;
  double h_integral_x1_;
  double h_integral_n_;
  double s_;
};

}  // namespace faultline
