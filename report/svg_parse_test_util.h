// For tests: a strict reader of the SVG a report writes (tags balanced, attributes quoted, text
// escaped), so a test counts the elements a plot drew from the markup itself.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::report::testing {

struct Element {
  std::string name;
  std::map<std::string, std::string> attrs;  // unescaped values
  bool has(const std::string& attr) const { return attrs.count(attr) > 0; }
  const std::string& at(const std::string& attr) const { return attrs.at(attr); }
};

// Every element of `svg` (one <svg>...</svg>) in document order. On malformed markup: `error`
// says what and where, and the elements read so far are returned.
std::vector<Element> ParseSvg(std::string_view svg, std::string* error);

// The <svg>...</svg> blocks of an HTML page, in order.
std::vector<std::string_view> SvgBlocks(std::string_view html);

// The elements of `elements` carrying `attr`.
std::vector<Element> With(const std::vector<Element>& elements, const std::string& attr);

}  // namespace faultline::report::testing
