// Deterministic randomness. One seed per run; each component draws from its own stream, forked
// from the run's seed by a stable name, so adding a component never shifts another's draws.
// Generator: xoshiro256** seeded through splitmix64. Distributions are our own: the standard
// library's differ between implementations, and a trace hash must not.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "base/time.h"

namespace faultline {

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
