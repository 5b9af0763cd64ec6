#include "base/rng.h"

#include <cmath>
#include <cstring>

#include "base/assert.h"
#include "base/hash.h"
#include "base/int128.h"

namespace faultline {
namespace {

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr uint64_t Rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

Rng::Rng(uint64_t seed) : seed_(seed) {
  uint64_t x = seed;
  for (uint64_t& word : state_) word = SplitMix64(x);
}

Rng Rng::Fork(std::string_view name) const {
  return Rng(HashCombine(seed_, Hash64(name, 0)));
}

Rng Rng::Fork(uint64_t index) const {
  return Rng(HashCombine(seed_, HashCombine(~0ULL, index)));
}

uint64_t Rng::NextU64() {
  const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = Rotl(state_[3], 45);
  return result;
}

uint64_t Rng::UniformU64(uint64_t bound) {
  FL_ASSERT(bound > 0);
  Uint128 product = static_cast<Uint128>(NextU64()) * bound;
  auto low = static_cast<uint64_t>(product);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = static_cast<Uint128>(NextU64()) * bound;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

int64_t Rng::UniformInt(int64_t lo, int64_t hi) {
  FL_ASSERT(lo <= hi);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == ~0ULL) return static_cast<int64_t>(NextU64());
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + UniformU64(span + 1));
}

double Rng::UniformDouble() {
  return static_cast<double>(NextU64() >> 11) * 0x1.0p-53;
}

bool Rng::Bernoulli(double p) {
  if (p <= 0.0) return false;
  if (p >= 1.0) return true;
  return UniformDouble() < p;
}

namespace {

// Inverse CDF of the unit exponential truncated to [0, ln 2): y = -ln(1 - u/2), u in [0, 1],
// tabulated at 256 points for linear interpolation (|error| < 2e-6: the curve bends gently).
// Computed by the compiler.
struct TruncatedExponentialTable {
  static constexpr int kBuckets = 256;
  double y[kBuckets + 1] = {};
  constexpr TruncatedExponentialTable() {
    for (int i = 0; i <= kBuckets; ++i) {
      y[i] = -Log(1.0 - 0.5 * static_cast<double>(i) / kBuckets);
    }
  }
};
constexpr TruncatedExponentialTable kExponentialTable;

}  // namespace

double Rng::Exponential(double mean) {
  FL_ASSERT(mean > 0.0);
  // X = G ln 2 + Y: G counts whole halvings (P(G = k) = 2^-(k+1), the trailing zeros of a
  // random word) and Y is the exponential truncated to [0, ln 2), by table. Exact in law by
  // memorylessness, no logarithm per draw, and the same on every platform.
  uint64_t word = NextU64();
  int halvings = 0;
  while (word == 0) {  // probability 2^-64 per round
    halvings += 64;
    word = NextU64();
  }
  halvings += __builtin_ctzll(word);
  const TruncatedExponentialTable& table = kExponentialTable;
  const double u = UniformDouble() * TruncatedExponentialTable::kBuckets;
  const auto bucket = static_cast<int>(u);
  const double fraction = u - static_cast<double>(bucket);
  const double y = table.y[bucket] + fraction * (table.y[bucket + 1] - table.y[bucket]);
  return mean * (static_cast<double>(halvings) * 0.6931471805599453 + y);
}

Duration Rng::ExponentialDuration(Duration mean) {
  if (mean.nanos() <= 0) return Duration::Zero();
  const double nanos = Exponential(static_cast<double>(mean.nanos()));
  // Cap at 1000 means: a draw that large would only stall a run.
  const double cap = 1000.0 * static_cast<double>(mean.nanos());
  return Duration::Nanos(static_cast<int64_t>(nanos < cap ? nanos : cap));
}

Duration Rng::UniformDuration(Duration lo, Duration hi) {
  return Duration::Nanos(UniformInt(lo.nanos(), hi.nanos()));
}

// --- Zipf -----------------------------------------------------------------------------------

namespace {
// log1p(x) / x, continuous at 0.
double Log1pOverX(double x) {
  return std::fabs(x) > 1e-8 ? std::log1p(x) / x : 1.0 - x / 2.0;
}
// expm1(x) / x, continuous at 0.
double Expm1OverX(double x) {
  return std::fabs(x) > 1e-8 ? std::expm1(x) / x : 1.0 + x / 2.0;
}
}  // namespace

ZipfDistribution::ZipfDistribution(uint64_t n, double exponent) : n_(n), exponent_(exponent) {
  FL_ASSERT(n > 0);
  FL_ASSERT(exponent > 0.0);
  h_integral_x1_ = H(1.5) - 1.0;
  h_integral_n_ = H(static_cast<double>(n_) + 0.5);
  s_ = 2.0 - HInverse(H(2.5) - h(2.0));
}

double ZipfDistribution::h(double x) const {
  return std::exp(-exponent_ * std::log(x));
}

double ZipfDistribution::H(double x) const {
  const double log_x = std::log(x);
  return Expm1OverX((1.0 - exponent_) * log_x) * log_x;
}

double ZipfDistribution::HInverse(double x) const {
  double t = x * (1.0 - exponent_);
  if (t < -1.0) t = -1.0;  // guards rounding at the edge of the domain
  return std::exp(Log1pOverX(t) * x);
}

uint64_t ZipfDistribution::Sample(Rng& rng) const {
  // Bounded: the acceptance probability is above 1/2 for every exponent, so 10'000 rounds
  // failing means a broken generator.
  for (int round = 0; round < 10'000; ++round) {
    const double u = h_integral_n_ + rng.UniformDouble() * (h_integral_x1_ - h_integral_n_);
    const double x = HInverse(u);
    double k = std::floor(x + 0.5);
    if (k < 1.0) k = 1.0;
    if (k > static_cast<double>(n_)) k = static_cast<double>(n_);
    if (k - x <= s_ || u >= H(k + 0.5) - h(k)) return static_cast<uint64_t>(k) - 1;
  }
  FL_UNREACHABLE("Zipf rejection sampling did not accept in 10000 rounds");
}

}  // namespace faultline
