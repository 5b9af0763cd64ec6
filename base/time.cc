#include "base/time.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace faultline {

std::string Duration::ToString() const {
  const int64_t n = nanos_;
  const int64_t magnitude = n < 0 ? -n : n;
  char buf[48];
  if (magnitude >= 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.3gs", static_cast<double>(n) * 1e-9);
  } else if (magnitude >= 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.3gms", static_cast<double>(n) * 1e-6);
  } else if (magnitude >= 1'000) {
    std::snprintf(buf, sizeof buf, "%.3gus", static_cast<double>(n) * 1e-3);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRId64 "ns", n);
  }
  return buf;
}

std::string Time::ToString() const {
  char buf[48];
  const int64_t whole = nanos_ / 1'000'000'000;
  const int64_t frac = std::llabs(nanos_ % 1'000'000'000);
  std::snprintf(buf, sizeof buf, "%s%" PRId64 ".%09" PRId64 "s",
                (nanos_ < 0 && whole == 0) ? "-" : "", whole, frac);
  return buf;
}

}  // namespace faultline
