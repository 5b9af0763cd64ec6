#include "scenarios/duration.h"

#include <cstdint>
#include <string>

#include "base/text.h"

namespace faultline::scenarios {

Result<Duration> ParseDuration(std::string_view text) {
  const std::string shown = Quote(text);
  auto bad = [&] {
    return InvalidArgumentError(shown +
                                " is not a duration (expected a number and a unit: ns, us, ms, "
                                "s, m or h, e.g. \"250ms\" or \"1.5s\")");
  };
  std::string_view t = text;
  bool negative = false;
  if (!t.empty() && t.front() == '-') {
    negative = true;
    t.remove_prefix(1);
  }
  size_t i = 0;
  uint64_t whole = 0;
  size_t whole_digits = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
    if (whole_digits >= 15) {
      return InvalidArgumentError(shown + " is longer than the longest duration, 24h");
    }
    whole = whole * 10 + static_cast<uint64_t>(t[i] - '0');
    ++whole_digits;
    ++i;
  }
  if (whole_digits == 0) return bad();
  std::string_view fraction;
  if (i < t.size() && t[i] == '.') {
    const size_t start = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    fraction = t.substr(start, i - start);
    if (fraction.empty()) return bad();
  }
  const std::string_view unit = t.substr(i);
  if (unit.empty()) {
    if (whole == 0 && fraction.find_first_not_of('0') == std::string_view::npos) {
      return Duration::Zero();
    }
    return InvalidArgumentError(shown + " has no unit (ns, us, ms, s, m or h)");
  }
  uint64_t unit_nanos = 0;
  if (unit == "ns") {
    unit_nanos = 1;
  } else if (unit == "us") {
    unit_nanos = 1'000;
  } else if (unit == "ms") {
    unit_nanos = 1'000'000;
  } else if (unit == "s") {
    unit_nanos = 1'000'000'000;
  } else if (unit == "m") {
    unit_nanos = 60'000'000'000;
  } else if (unit == "h") {
    unit_nanos = 3'600'000'000'000;
  } else {
    return bad();
  }
  const auto max_nanos = static_cast<uint64_t>(kMaxDuration.nanos());
  if (whole > max_nanos / unit_nanos) {
    return InvalidArgumentError(shown + " is longer than the longest duration, 24h");
  }
  uint64_t nanos = whole * unit_nanos;
  uint64_t scale = unit_nanos;
  for (char c : fraction) {
    const auto digit = static_cast<uint64_t>(c - '0');
    if (scale % 10 != 0) {
      if (digit != 0) {
        return InvalidArgumentError(shown + " is more precise than a nanosecond");
      }
      continue;
    }
    scale /= 10;
    nanos += digit * scale;
  }
  if (nanos > max_nanos) {
    return InvalidArgumentError(shown + " is longer than the longest duration, 24h");
  }
  const auto signed_nanos = static_cast<int64_t>(nanos);
  return Duration::Nanos(negative ? -signed_nanos : signed_nanos);
}

}  // namespace faultline::scenarios
