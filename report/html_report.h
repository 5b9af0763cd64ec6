// Self-contained HTML reports (docs/reports.md): one file, no script, no network (inline CSS,
// plots as inline SVG from svg_plot.h), readable on a phone and in print. Every piece of text
// from a run, a scenario or a user is escaped.
//
//   std::string html = report::RunReportHtml(*run_report);        // faultline run --html
//   std::string html = report::ExploreReportHtml(explore_input);  // faultline explore --html
//
// Elements a test counts carry data- attributes: in the run report one `data-checkpoint` point
// per completed checkpoint in each of the duration and size plots, one `data-fault-window` band
// per fault window (report/fault_windows.h) in each plot, one `data-recovery` mark per recovery;
// in the exploration report one `data-marker` bar per coverage marker and one `data-seed` row
// per listed seed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "scenarios/runner.h"
#include "search/explore.h"

namespace faultline::report {

std::string RunReportHtml(const scenarios::RunReport& report);

struct ExploreHtmlInput {
  const search::ExploreReport* report = nullptr;
  std::vector<search::SeedResult> seeds;  // the seeds listed, in seed order
  uint64_t seeds_not_listed = 0;          // beyond the listing's cap
  // A failure group (FailureGroup::what) -> the command that replays its minimized reproducer.
  std::map<std::string, std::string> replays;
};

std::string ExploreReportHtml(const ExploreHtmlInput& input);

// Keeps the per-seed listing of an exploration bounded: every failing seed and the first
// `limit` others, up to `limit` failing ones (the rest are counted).
class SeedListing {
 public:
  explicit SeedListing(size_t limit) : limit_(limit) {}
  void Add(const search::SeedResult& result);
  std::vector<search::SeedResult> Take() { return std::move(seeds_); }
  uint64_t not_listed() const { return not_listed_; }

 private:
  size_t limit_;
  size_t passing_ = 0;
  size_t failing_ = 0;
  std::vector<search::SeedResult> seeds_;
  uint64_t not_listed_ = 0;
};

// The page around a report's body: <!DOCTYPE html>, the inline style sheet and a Content
// Security Policy that forbids every fetch (so a page that tried one shows a console error).
std::string HtmlPage(const std::string& title, const std::string& body);

}  // namespace faultline::report
