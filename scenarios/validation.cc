#include "scenarios/validation.h"

#include <algorithm>

#include "base/text.h"
#include "scenarios/duration.h"

namespace faultline::scenarios::internal {

Path At(const Path& base, std::string field, int index) {
  Path p = base;
  p.push_back(PathPart{std::move(field), index});
  return p;
}

std::string FormatPath(const Path& path) {
  std::string out;
  for (const PathPart& part : path) {
    if (!out.empty()) out += '.';
    out += part.field;
    if (part.index >= 0) out += "[" + std::to_string(part.index) + "]";
  }
  return out;
}

Check Fail(const Path& path, std::string message) {
  return Issue{path, std::move(message)};
}

bool Contains(const std::vector<std::string_view>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

Path ParsePath(const std::string& text) {
  Path path;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('.', start);
    if (end == std::string::npos) end = text.size();
    std::string part = text.substr(start, end - start);
    int index = -1;
    const size_t open = part.find('[');
    if (open != std::string::npos && part.back() == ']') {
      index = std::stoi(part.substr(open + 1, part.size() - open - 2));
      part.resize(open);
    }
    path.push_back(PathPart{std::move(part), index});
    start = end + 1;
  }
  return path;
}

Check Outside(const Path& path, int64_t value, int64_t lo, int64_t hi) {
  return Fail(path, std::to_string(value) + " is outside [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "]");
}

Check InRange(const Path& path, bool has, int64_t value, int64_t lo, int64_t hi) {
  if (has && (value < lo || value > hi)) return Outside(path, value, lo, hi);
  return std::nullopt;
}

Check DurationField(const Path& path, const std::string& text, Duration fallback, Sign sign,
                    Duration* out) {
  if (text.empty()) {
    *out = fallback;
    return std::nullopt;
  }
  Result<Duration> d = ParseDuration(text);
  if (!d.ok()) return Fail(path, std::string(d.status().message()));
  switch (sign) {
    case Sign::kPositive:
      if (*d <= Duration::Zero()) return Fail(path, "must be positive, got " + Quote(text));
      break;
    case Sign::kNonNegative:
      if (*d < Duration::Zero()) return Fail(path, "must not be negative, got " + Quote(text));
      break;
    case Sign::kNonZero:
      if (*d == Duration::Zero()) return Fail(path, "must not be zero");
      break;
  }
  *out = *d;
  return std::nullopt;
}

}  // namespace faultline::scenarios::internal
