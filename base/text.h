// Text for messages and scenario files: a value quoted for an error message, and a duration
// written exactly in the syntax the scenario loader parses (scenarios/loader.h ParseDuration).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"

namespace faultline {

// `text` in double quotes, with quotes, backslashes and non-printable bytes escaped ("\x0a"),
// cut after 80 bytes ("...").
std::string Quote(std::string_view text);

// "a, b, c".
std::string Join(const std::vector<std::string_view>& names);

// The duration exactly, in the largest unit that divides it: "0", "250ms", "1500ms", "2m",
// "-200ms", "7ns". ParseDuration(DurationText(d)) == d for every |d| <= 24h.
std::string DurationText(Duration d);

}  // namespace faultline
