// Text for HTML and SVG: escaping (every piece of text a report shows comes from a run, a
// scenario file or a user, so all of it is escaped) and numbers written for SVG coordinates.
#pragma once

#include <string>
#include <string_view>

namespace faultline::report {

// `text` safe inside an element or a quoted attribute: & < > " ' become entities; control bytes
// other than tab and newline (invalid in XML 1.0) become U+FFFD.
std::string Escape(std::string_view text);

// A coordinate or size: fixed point with at most 2 decimals, no trailing zeros ("12.5", "3").
std::string Num(double value);

// A byte count for people: "812 B", "11.7 KiB", "3.2 MiB".
std::string Bytes(double bytes);

// A plot in its block: scrolls sideways on a narrow screen rather than shrinking its text.
inline std::string Figure(const std::string& svg) {
  return "<div class=\"plotwrap\">" + svg + "</div>\n";
}

}  // namespace faultline::report
