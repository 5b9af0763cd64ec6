// `faultline explore --html`: an exploration's report as a page (report/html_report.h).
#include <cinttypes>
#include <cstdio>

#include "checkers/markers.h"
#include "report/html_report.h"
#include "report/markup.h"
#include "report/svg_plot.h"

namespace faultline::report {
namespace {

std::string Percent(uint64_t n, uint64_t of) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%",
                of ? 100.0 * static_cast<double>(n) / static_cast<double>(of) : 0.0);
  return buf;
}

std::string Hex(uint64_t hash) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, hash);
  return buf;
}

// `faultline run FILE --seed N ...` -> `faultline minimize FILE --seed N ...` (the same case,
// seed and switches).
std::string MinimizeCommand(const std::string& reproduce) {
  constexpr std::string_view kRun = "faultline run ";
  if (reproduce.rfind(kRun, 0) != 0) return "";
  return "faultline minimize " + reproduce.substr(kRun.size());
}

std::string Summary(const search::ExploreReport& r) {
  const uint64_t last = r.range.count == 0 ? r.range.first : r.range.first + r.range.count - 1;
  const std::string verdict = r.clean() ? "CLEAN" : "FAILING";
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.1f s wall, %.1f seeds/s", r.wall_seconds,
                r.seeds_per_second());
  std::string out =
      "<h1>faultline explore: " + Escape(r.source_label) + "</h1>\n<dl class=\"head\">\n";
  auto item = [&out](std::string_view name, const std::string& html) {
    out += "<dt>" + std::string(name) + "</dt><dd>" + html + "</dd>\n";
  };
  item("seeds", std::to_string(r.range.first) + ".." + std::to_string(last) + " (shard " +
                    std::to_string(r.shard.index) + "/" + std::to_string(r.shard.count) + "); " +
                    std::to_string(r.done) + " run on " + std::to_string(r.jobs) + " threads" +
                    (r.budget_exhausted ? "; the time budget ran out" : ""));
  item("speed", rate);
  std::string outcomes;
  for (const auto& [name, n] : r.outcomes) {
    outcomes += std::string(outcomes.empty() ? "" : ", ") + "<span class=\"" + Escape(name) +
                "\" data-outcome=\"" + Escape(name) + "\" data-seeds=\"" + std::to_string(n) +
                "\">" + std::to_string(n) + " " + Escape(name) + "</span>";
  }
  item("outcomes", outcomes.empty() ? "none" : outcomes);
  if (r.det_checked > 0) {
    item("determinism", std::to_string(r.det_checked) + " seeds rerun, " +
                            std::to_string(r.det_mismatches.size()) + " trace-hash mismatches");
  }
  item("verdict", "<span class=\"" + verdict + "\">" + verdict + "</span>" +
                      (r.clean() ? ": no violation, no unexplained inconclusive run, no error"
                                 : ": " + std::to_string(r.failing) + " failing seeds in " +
                                       std::to_string(r.groups.size()) + " groups"));
  return out + "</dl>\n";
}

std::string Groups(const ExploreHtmlInput& in) {
  const search::ExploreReport& r = *in.report;
  std::string out = "<h2>Failure groups</h2>\n";
  if (r.groups.empty()) return out + "<p>No seed failed.</p>\n";
  for (const search::FailureGroup& g : r.groups) {
    std::string seeds;
    for (size_t i = 0; i < g.seeds.size() && i < 12; ++i) {
      seeds += (i ? ", " : "") + std::to_string(g.seeds[i]);
    }
    if (g.seeds.size() > 12) seeds += " ... (" + std::to_string(g.seeds.size() - 12) + " more)";
    out += "<div class=\"group\" data-group-seeds=\"" + std::to_string(g.seeds.size()) + "\"><h3>" +
           std::to_string(g.seeds.size()) + " &times; " + Escape(g.what) + "</h3>\n<p>seeds " +
           seeds + "</p>\n<p>reproduce the first:</p><pre><code>" + Escape(g.first_reproduce) +
           "</code></pre>\n";
    const std::string minimize = MinimizeCommand(g.first_reproduce);
    if (!minimize.empty()) {
      out += "<p>minimize it:</p><pre><code>" + Escape(minimize) + "</code></pre>\n";
    }
    if (auto it = in.replays.find(g.what); it != in.replays.end()) {
      out += "<p>replay its minimized reproducer:</p><pre><code>" + Escape(it->second) +
             "</code></pre>\n";
    }
    out += "</div>\n";
  }
  for (uint64_t seed : r.det_mismatches) {
    out += "<p class=\"FAIL\">determinism: seed " + std::to_string(seed) +
           ": the rerun's trace hash differs</p>\n";
  }
  return out;
}

std::string Coverage(const search::ExploreReport& r) {
  std::vector<Bar> bars;
  for (checkers::Marker m : checkers::kAllMarkers) {
    const uint64_t n = r.marker_hits[static_cast<size_t>(m)];
    const std::string name(checkers::MarkerName(m));
    bars.push_back(Bar{name,
                       static_cast<double>(n),
                       Percent(n, r.done),
                       name + ": " + std::to_string(n) + " of " + std::to_string(r.done) +
                           " seeds (" + std::string(checkers::MarkerDescription(m)) + ")",
                       {{"data-marker", name}, {"data-seeds", std::to_string(n)}}});
  }
  return "<h2>Coverage markers</h2>\n<p>Seeds reaching each marker, of " + std::to_string(r.done) +
         " run (docs/search.md lists what each means).</p>\n" +
         Figure(BarChart("Coverage marker rates", bars, static_cast<double>(r.done)));
}

std::string SeedTable(const ExploreHtmlInput& in) {
  std::string out = "<h2>Seeds</h2>\n";
  if (in.seeds.empty()) return out + "<p class=\"muted\">No seed listed.</p>\n";
  out +=
      "<div class=\"scroll\"><table class=\"seeds\"><tr><th class=\"num\">seed</th>"
      "<th>case</th><th>verdict</th><th>trace hash</th><th>markers</th>"
      "<th class=\"num\">simulated</th><th class=\"num\">faults</th><th>detail</th></tr>\n";
  for (const search::SeedResult& s : in.seeds) {
    std::string markers;
    for (std::string_view m : s.markers.names()) {
      markers += (markers.empty() ? "" : ", ") + Escape(m);
    }
    out += "<tr data-seed=\"" + std::to_string(s.seed) + "\"><td class=\"num\">" +
           std::to_string(s.seed) + "</td><td>" + Escape(s.scenario) + "</td><td class=\"" +
           Escape(s.outcome) + "\">" + Escape(s.outcome) + (s.det_mismatch() ? " (DET)" : "") +
           "</td><td><code>" + Hex(s.trace_hash) + "</code></td><td><small>" + markers +
           "</small></td><td class=\"num\">" + std::to_string(s.simulated_ms) +
           " ms</td><td class=\"num\">" + std::to_string(s.fault_entries) + "</td><td>" +
           Escape(s.detail) + "</td></tr>\n";
  }
  out += "</table></div>\n";
  if (in.seeds_not_listed > 0) {
    out += "<p class=\"muted\">" + std::to_string(in.seeds_not_listed) +
           " more seeds are not listed (the listing keeps every failing seed and the first passing "
           "ones, each up to a cap); "
           "<code>--json</code> writes every seed.</p>\n";
  }
  return out;
}

}  // namespace

void SeedListing::Add(const search::SeedResult& result) {
  size_t& taken = result.failing ? failing_ : passing_;
  if (taken >= limit_) {
    ++not_listed_;
    return;
  }
  ++taken;
  seeds_.push_back(result);
}

std::string ExploreReportHtml(const ExploreHtmlInput& in) {
  const search::ExploreReport& r = *in.report;
  const std::string body = Summary(r) + Groups(in) + Coverage(r) + SeedTable(in);
  return HtmlPage("faultline explore: " + r.source_label, body);
}

}  // namespace faultline::report
