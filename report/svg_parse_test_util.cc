#include "report/svg_parse_test_util.h"

#include <cctype>

namespace faultline::report::testing {
namespace {

// Unescapes the five entities Escape writes; false on any other '&'.
bool Unescape(std::string_view text, std::string* out) {
  static const std::map<std::string_view, char> kEntities = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' || text[i] == '>') return false;
    if (text[i] != '&') {
      *out += text[i];
      continue;
    }
    bool known = false;
    for (const auto& [entity, c] : kEntities) {
      if (text.substr(i, entity.size()) == entity) {
        *out += c;
        i += entity.size() - 1;
        known = true;
        break;
      }
    }
    if (!known) return false;
  }
  return true;
}

// Reads the attributes of a start tag's body (after its name); false when malformed.
bool ReadAttrs(std::string_view body, Element* e) {
  size_t i = 0;
  while (true) {
    while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
    if (i == body.size()) return true;
    const size_t eq = body.find('=', i);
    if (eq == std::string_view::npos || body.substr(eq + 1, 1) != "\"") return false;
    const std::string name(body.substr(i, eq - i));
    const size_t end = body.find('"', eq + 2);
    if (end == std::string_view::npos || name.empty() || e->attrs.count(name)) return false;
    if (!Unescape(body.substr(eq + 2, end - eq - 2), &e->attrs[name])) return false;
    i = end + 1;
  }
}

}  // namespace

std::vector<Element> ParseSvg(std::string_view svg, std::string* error) {
  std::vector<Element> elements;
  std::vector<std::string> open;
  size_t i = 0;
  std::string text;
  while (i < svg.size()) {
    const size_t lt = svg.find('<', i);
    if (!Unescape(svg.substr(i, (lt == std::string_view::npos ? svg.size() : lt) - i), &text)) {
      *error = "bad text at offset " + std::to_string(i);
      return elements;
    }
    if (lt == std::string_view::npos) break;
    const size_t gt = svg.find('>', lt);
    if (gt == std::string_view::npos) {
      *error = "unclosed tag at offset " + std::to_string(lt);
      return elements;
    }
    std::string_view tag = svg.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (!tag.empty() && tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) {
        *error = "unbalanced </" + std::string(tag.substr(1)) + ">";
        return elements;
      }
      open.pop_back();
      continue;
    }
    const bool self_closing = !tag.empty() && tag.back() == '/';
    if (self_closing) tag.remove_suffix(1);
    const size_t space = tag.find(' ');
    Element e;
    e.name = std::string(tag.substr(0, space));
    if (space != std::string_view::npos && !ReadAttrs(tag.substr(space + 1), &e)) {
      *error = "bad attributes in <" + std::string(tag) + ">";
      return elements;
    }
    if (!self_closing) open.push_back(e.name);
    elements.push_back(std::move(e));
  }
  if (!open.empty()) *error = "unclosed <" + open.back() + ">";
  return elements;
}

std::vector<std::string_view> SvgBlocks(std::string_view html) {
  std::vector<std::string_view> blocks;
  size_t from = 0;
  while (true) {
    const size_t start = html.find("<svg ", from);
    if (start == std::string_view::npos) return blocks;
    const size_t end = html.find("</svg>", start);
    if (end == std::string_view::npos) return blocks;
    blocks.push_back(html.substr(start, end + 6 - start));
    from = end + 6;
  }
}

std::vector<Element> With(const std::vector<Element>& elements, const std::string& attr) {
  std::vector<Element> out;
  for (const Element& e : elements) {
    if (e.has(attr)) out.push_back(e);
  }
  return out;
}

}  // namespace faultline::report::testing
