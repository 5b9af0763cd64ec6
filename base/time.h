// Strong time types in integer nanoseconds. Simulated time never reads the wall clock; the
// same types serve a real runtime later.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace faultline {

// A signed span of time in nanoseconds.
class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Nanos(int64_t n) { return Duration(n); }
  static constexpr Duration Micros(int64_t n) { return Duration(n * 1'000); }
  static constexpr Duration Millis(int64_t n) { return Duration(n * 1'000'000); }
  static constexpr Duration Seconds(int64_t n) { return Duration(n * 1'000'000'000); }
  static constexpr Duration Zero() { return Duration(0); }
  static constexpr Duration Max() { return Duration(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return nanos_; }
  constexpr double seconds() const { return static_cast<double>(nanos_) * 1e-9; }
  constexpr double millis() const { return static_cast<double>(nanos_) * 1e-6; }

  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration(nanos_ + o.nanos_); }
  constexpr Duration operator-(Duration o) const { return Duration(nanos_ - o.nanos_); }
  constexpr Duration operator*(int64_t k) const { return Duration(nanos_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(nanos_ / k); }
  constexpr Duration& operator+=(Duration o) {
    nanos_ += o.nanos_;
    return *this;
  }
  constexpr Duration& operator-=(Duration o) {
    nanos_ -= o.nanos_;
    return *this;
  }

  // "1.5s", "20ms", "3us", "7ns": the largest unit that keeps three significant digits.
  std::string ToString() const;

 private:
  constexpr explicit Duration(int64_t nanos) : nanos_(nanos) {}
  int64_t nanos_ = 0;
};

// A point in (simulated or node-local) time: nanoseconds since the start of the run.
class Time {
 public:
  constexpr Time() = default;
  static constexpr Time FromNanos(int64_t n) { return Time(n); }
  static constexpr Time Zero() { return Time(0); }
  static constexpr Time Max() { return Time(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return nanos_; }
  constexpr double seconds() const { return static_cast<double>(nanos_) * 1e-9; }

  constexpr auto operator<=>(const Time&) const = default;
  constexpr Time operator+(Duration d) const { return Time(nanos_ + d.nanos()); }
  constexpr Time operator-(Duration d) const { return Time(nanos_ - d.nanos()); }
  constexpr Duration operator-(Time o) const { return Duration::Nanos(nanos_ - o.nanos_); }
  constexpr Time& operator+=(Duration d) {
    nanos_ += d.nanos();
    return *this;
  }

  // "12.345678901s".
  std::string ToString() const;

 private:
  constexpr explicit Time(int64_t nanos) : nanos_(nanos) {}
  int64_t nanos_ = 0;
};

}  // namespace faultline
