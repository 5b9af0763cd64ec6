#include "report/fault_windows.h"

#include <map>
#include <optional>
#include <string_view>

namespace faultline::report {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}
bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// How one fault event opens, closes or extends a window.
struct Parsed {
  enum class Kind { kFiring, kOpen, kClose, kInstant } kind = Kind::kInstant;
  std::string key;
  std::string label;
};

// "node 1 crashed (injected fault crash-while-aligning)" -> "crash-while-aligning: node 1 down".
Parsed ParseCrash(std::string_view what) {
  const size_t paren = what.find(" crashed (");
  const std::string node(what.substr(0, paren));  // "node 1"
  std::string_view cause = what.substr(paren + 10);
  if (EndsWith(cause, ")")) cause.remove_suffix(1);
  constexpr std::string_view kInjected = "injected fault ";
  std::string label = node + " down";
  if (StartsWith(cause, kInjected)) {
    label = std::string(cause.substr(kInjected.size())) + ": " + label;
  } else if (!cause.empty()) {
    label += " (" + std::string(cause) + ")";
  }
  return {Parsed::Kind::kOpen, node + " down", label};
}

Parsed Parse(std::string_view what) {
  if (StartsWith(what, "fault ")) {
    const std::string_view rest = what.substr(6);
    const std::string name(rest.substr(0, rest.find(' ')));
    return {Parsed::Kind::kFiring, "fault " + name, name};
  }
  if (StartsWith(what, "node ")) {
    if (what.find(" crashed (") != std::string_view::npos) return ParseCrash(what);
    const size_t space = what.find(' ', 5);
    const std::string node(what.substr(0, space));
    const std::string_view verb = space == std::string_view::npos ? "" : what.substr(space + 1);
    if (verb == "restarted") return {Parsed::Kind::kClose, node + " down", ""};
    if (verb == "paused") return {Parsed::Kind::kOpen, node + " paused", node + " paused"};
    if (verb == "resumed") return {Parsed::Kind::kClose, node + " paused", ""};
  }
  if (StartsWith(what, "network partition ")) {
    if (EndsWith(what, " healed")) {
      return {Parsed::Kind::kClose, std::string(what.substr(0, what.size() - 7)), ""};
    }
    return {Parsed::Kind::kOpen, std::string(what), std::string(what)};
  }
  return {Parsed::Kind::kInstant, std::string(what), std::string(what)};
}

}  // namespace

std::vector<FaultWindow> FaultWindows(const std::vector<scenarios::FaultRecord>& faults,
                                      Time run_end) {
  std::vector<FaultWindow> windows;
  std::map<std::string, size_t> firing;  // named fault -> its window
  std::map<std::string, size_t> open;    // crash, pause, partition -> its open window
  for (const scenarios::FaultRecord& f : faults) {
    Parsed p = Parse(f.what);
    if (p.kind == Parsed::Kind::kClose) {
      auto it = open.find(p.key);
      if (it != open.end()) {
        windows[it->second].end = f.at;
        windows[it->second].open = false;
        ++windows[it->second].events;
        open.erase(it);
        continue;
      }
      p = {Parsed::Kind::kInstant, std::string(f.what), std::string(f.what)};  // unmatched
    }
    if (p.kind == Parsed::Kind::kFiring) {
      auto [it, inserted] = firing.emplace(p.key, windows.size());
      if (!inserted) {
        windows[it->second].end = f.at;
        ++windows[it->second].events;
        continue;
      }
    }
    if (p.kind == Parsed::Kind::kOpen) {
      if (auto it = open.find(p.key); it != open.end()) {  // already open: the same window
        ++windows[it->second].events;
        continue;
      }
      open[p.key] = windows.size();
    }
    const bool is_open = p.kind == Parsed::Kind::kOpen;
    windows.push_back(
        FaultWindow{p.key, p.label, f.at, is_open ? run_end : f.at, is_open, /*events=*/1});
  }
  return windows;
}

}  // namespace faultline::report
