#include "base/text.h"

#include <cstdint>

namespace faultline {

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  if (text.size() > 80) out += "...";
  return out + "\"";
}

std::string Join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

std::string DurationText(Duration d) {
  if (d == Duration::Zero()) return "0";
  struct Unit {
    int64_t nanos;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {3'600'000'000'000, "h"}, {60'000'000'000, "m"}, {1'000'000'000, "s"},
      {1'000'000, "ms"},        {1'000, "us"},         {1, "ns"}};
  const int64_t n = d.nanos();
  for (const Unit& unit : kUnits) {
    if (n % unit.nanos == 0) return std::to_string(n / unit.nanos) + unit.name;
  }
  return std::to_string(n) + "ns";
}

}  // namespace faultline
