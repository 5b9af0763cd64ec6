// Durations as scenario files write them: "250ms", "1.5s", "2m" (ns, us, ms, s, m, h), "0".
#pragma once

#include <string_view>

#include "base/status.h"
#include "base/time.h"

namespace faultline::scenarios {

// The longest duration a scenario may write.
inline constexpr Duration kMaxDuration = Duration::Seconds(24 * 3600);

// "250ms" -> 250 ms. Accepts a decimal number with a unit (ns, us, ms, s, m, h), a leading
// '-', and "0"; refuses anything else and magnitudes above 24h (InvalidArgument, message
// without a field path). base/text.h DurationText writes one back exactly.
Result<Duration> ParseDuration(std::string_view text);

}  // namespace faultline::scenarios
