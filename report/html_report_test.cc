// The HTML reports against the JSON report of the same run: one point per completed checkpoint,
// one shaded window per fault, one mark per recovery; and escaping of hostile text.
#include "report/html_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "report/svg_parse_test_util.h"
#include "scenarios/loader.h"

namespace faultline::report {
namespace {

using testing::Element;
using testing::ParseSvg;
using testing::SvgBlocks;
using testing::With;

struct Page {
  std::vector<std::vector<Element>> svgs;  // each plot's elements
  std::vector<std::string> classes;        // each plot's class attribute
};

Page ReadPage(const std::string& html) {
  Page page;
  for (std::string_view block : SvgBlocks(html)) {
    std::string error;
    page.svgs.push_back(ParseSvg(block, &error));
    EXPECT_EQ(error, "") << block.substr(0, 200);
    page.classes.push_back(page.svgs.back().empty() ? "" : page.svgs.back()[0].attrs["class"]);
  }
  return page;
}

const std::vector<Element>& Plot(const Page& page, const std::string& css_class) {
  for (size_t i = 0; i < page.svgs.size(); ++i) {
    if (page.classes[i].find(css_class) != std::string::npos) return page.svgs[i];
  }
  static const std::vector<Element> kNone;
  ADD_FAILURE() << "no plot " << css_class;
  return kNone;
}

// The fault a JSON fault event belongs to, read independently of fault_windows.cc: a named
// fault's firings share its name; a crash, pause or partition runs to its restart, resume, heal.
struct ExpectedWindows {
  size_t count = 0;
  std::vector<std::pair<std::string, int64_t>> events;  // (key, at_ns) of events in a window
};

ExpectedWindows FromJson(const nlohmann::json& events) {
  ExpectedWindows out;
  std::set<std::string> named;
  std::set<std::string> open;
  for (const nlohmann::json& e : events) {
    const std::string what = e["what"];
    const int64_t at = e["at_ns"];
    std::string key = what;
    bool closes = false;
    bool opens = false;
    if (what.rfind("fault ", 0) == 0) {
      key = "fault " + what.substr(6, what.find(' ', 6) - size_t{6});
      if (named.insert(key).second) ++out.count;
      out.events.emplace_back(key, at);
      continue;
    }
    if (what.find(" crashed (") != std::string::npos || what.ends_with(" restarted")) {
      key = what.substr(0, what.find(' ', 5)) + " down";
      closes = what.ends_with(" restarted");
      opens = !closes;
    } else if (what.ends_with(" paused") || what.ends_with(" resumed")) {
      key = what.substr(0, what.find(' ', 5)) + " paused";
      closes = what.ends_with(" resumed");
      opens = !closes;
    } else if (what.rfind("network partition ", 0) == 0) {
      closes = what.ends_with(" healed");
      opens = !closes;
      key = closes ? what.substr(0, what.size() - 7) : what;
    }
    if (closes && open.erase(key)) {
      out.events.emplace_back(key, at);
      continue;
    }
    if (closes) key = what;  // a restart without its crash: an instant of its own
    if (!opens || open.insert(key).second) ++out.count;
    out.events.emplace_back(key, at);
  }
  return out;
}

// Every plot over time: one band per fault window, each JSON fault event inside a band of its
// own fault, one mark per recovery.
void ExpectContextMatches(const std::vector<Element>& plot, const nlohmann::json& j) {
  const ExpectedWindows expected = FromJson(j["faults"]["events"]);
  const std::vector<Element> bands = With(plot, "data-fault-window");
  EXPECT_EQ(bands.size(), expected.count);
  for (const auto& [key, at] : expected.events) {
    bool inside = false;
    for (const Element& b : bands) {
      inside |= b.at("data-key") == key && std::stoll(b.at("data-start-ns")) <= at &&
                at <= std::stoll(b.at("data-end-ns"));
    }
    EXPECT_TRUE(inside) << key << " at " << at;
  }
  const std::vector<Element> marks = With(plot, "data-recovery");
  ASSERT_EQ(marks.size(), j["recoveries"].size());
  for (size_t i = 0; i < marks.size(); ++i) {
    EXPECT_EQ(std::stoll(marks[i].at("data-at-ns")), j["recoveries"][i]["at_ns"].get<int64_t>());
  }
}

void ExpectCheckpointsMatch(const Page& page, const nlohmann::json& j) {
  std::vector<nlohmann::json> completed;
  size_t aborted = 0;
  for (const nlohmann::json& c : j["checkpoints"]) {
    if (c["outcome"] == "completed") completed.push_back(c);
    if (c["outcome"] == "aborted") ++aborted;
  }
  for (const char* name : {"checkpoint-duration", "checkpoint-size"}) {
    const std::vector<Element> points = With(Plot(page, name), "data-checkpoint");
    ASSERT_EQ(points.size(), completed.size()) << name;
    for (size_t i = 0; i < points.size(); ++i) {
      const nlohmann::json& c = completed[i];
      EXPECT_EQ(points[i].at("data-checkpoint"), std::to_string(c["id"].get<uint64_t>()));
      EXPECT_EQ(std::stoll(points[i].at("data-triggered-ns")), c["triggered_ns"].get<int64_t>());
      EXPECT_EQ(std::stoll(points[i].at("data-duration-ns")),
                c["ended_ns"].get<int64_t>() - c["triggered_ns"].get<int64_t>());
      EXPECT_EQ(std::stoull(points[i].at("data-state-bytes")), c["state_bytes"].get<uint64_t>());
    }
    ExpectContextMatches(Plot(page, name), j);
  }
  EXPECT_EQ(With(Plot(page, "checkpoint-duration"), "data-checkpoint-aborted").size(), aborted);
}

void ExpectViolationsMatch(const Page& page, const std::string& html, const nlohmann::json& j) {
  size_t timed = 0;
  for (const nlohmann::json& v : j["verdict"]["checkers"]) {
    if (v.contains("violation") && v["violation"]["evidence"].contains("time_ns")) ++timed;
    EXPECT_NE(html.find("<tr data-checker=\"" + v["checker"].get<std::string>() + "\">"),
              std::string::npos);
  }
  if (timed == 0) return;
  const std::vector<Element>& strip = Plot(page, "violations");
  EXPECT_EQ(With(strip, "data-violation").size(), timed);
  ExpectContextMatches(strip, j);
}

scenarios::RunReport RunLibrary(const std::string& file, std::optional<uint64_t> seed = {}) {
  Result<scenarios::Scenario> s =
      scenarios::LoadScenarioFile(std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/" + file);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  scenarios::RunOptions options;
  options.seed = seed;
  Result<scenarios::RunReport> r = scenarios::RunScenario(*s, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

class RunHtmlTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RunHtmlTest, PlotsMatchTheJsonReport) {
  const scenarios::RunReport r = RunLibrary(GetParam());
  const nlohmann::json j = nlohmann::json::parse(scenarios::ReportJson(r));
  const std::string html = RunReportHtml(r);
  const Page page = ReadPage(html);
  ExpectCheckpointsMatch(page, j);
  ExpectViolationsMatch(page, html, j);
  EXPECT_NE(html.find("data-verdict=\"" + j["verdict"]["outcome"].get<std::string>() + "\""),
            std::string::npos);
  for (const nlohmann::json& m : j["markers"]) {
    EXPECT_NE(html.find("data-marker=\"" + m.get<std::string>() + "\""), std::string::npos);
  }
  EXPECT_NE(html.find(j["reproduce"].get<std::string>()), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
}

// Crashes and restarts, a storage outage hit many times, a nemesis swarm (crashes, pauses,
// partitions, latency), JobManager failover, and a teaching switch's violation.
INSTANTIATE_TEST_SUITE_P(
    Library, RunHtmlTest,
    ::testing::Values("crash_during_alignment.textproto", "blob_outage_during_upload.textproto",
                      "nemesis_swarm.textproto", "jobmanager_failover.textproto",
                      "zombie_after_partition.textproto", "switch_offset_after_emit.textproto",
                      "switch_skip_checksum.textproto"));

TEST(RunHtmlPageTest, TheFaultsOfARealRunMakeOneWindowEach) {
  const scenarios::RunReport r = RunLibrary("crash_during_alignment.textproto");
  const Page page = ReadPage(RunReportHtml(r));
  // node 1 crashed at 1.514 s and restarted at 2.014 s: one window, from the crash to the restart.
  const std::vector<Element> bands = With(Plot(page, "checkpoint-duration"), "data-fault-window");
  ASSERT_EQ(bands.size(), 1u);
  EXPECT_EQ(bands[0].at("data-key"), "node 1 down");
  EXPECT_EQ(std::stoll(bands[0].at("data-start-ns")), r.faults[0].at.nanos());
  EXPECT_EQ(std::stoll(bands[0].at("data-end-ns")), r.faults[1].at.nanos());
}

TEST(RunHtmlPageTest, EscapesEveryTextFromTheRun) {
  scenarios::RunReport r = RunLibrary("crash_during_alignment.textproto");
  const std::string hostile = "<script>alert('x')</script>&\"";
  r.name = hostile;
  r.path = hostile;
  r.description = hostile;
  r.job_summary = hostile;
  r.reproduce = "faultline run '" + hostile + "'";
  r.markers.push_back(hostile);
  r.faults.push_back({r.ended, "fault " + hostile + " at blob-put on node 1"});
  r.warnings.push_back(hostile);
  r.checkpoints.back().reason = hostile;
  checkers::Verdict v(hostile);
  v.Fail({hostile, {.time = r.ended, .detail = hostile}});
  v.Unjudge(checkers::Unjudged::kNothingToCheck, hostile);
  v.Note(hostile);
  r.verdicts.push_back(v);
  const std::string html = RunReportHtml(r);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("alert('x')"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"),
            std::string::npos);
  const Page page = ReadPage(html);  // every SVG stays well-formed
  EXPECT_EQ(With(Plot(page, "violations"), "data-violation")[0].at("data-violation"), hostile);
}

search::SeedResult Seed(uint64_t seed, bool failing) {
  search::SeedResult s;
  s.seed = seed;
  s.scenario = "case";
  s.outcome = failing ? "VIOLATION" : "PASS";
  s.failing = failing;
  s.trace_hash = 0xabcdef0123456789ull + seed;
  s.markers.set(checkers::Marker::kCheckpointCompleted);
  return s;
}

TEST(ExploreHtmlTest, OneBarPerMarkerOneRowPerListedSeed) {
  search::ExploreReport r;
  r.source_label = "x.textproto <b>";
  r.range = {1, 5};
  r.done = 4;
  r.jobs = 2;
  r.wall_seconds = 2;
  r.outcomes = {{"PASS", 3}, {"VIOLATION", 1}};
  r.marker_hits[static_cast<size_t>(checkers::Marker::kCheckpointCompleted)] = 4;
  r.marker_hits[static_cast<size_t>(checkers::Marker::kZombieFenced)] = 1;
  r.failing = 1;
  r.groups.push_back({"EO-OUT: a <record> lost", {3}, "faultline run x.textproto --seed 3"});
  SeedListing listing(2);
  for (uint64_t s = 1; s <= 4; ++s) listing.Add(Seed(s, s == 3));
  EXPECT_EQ(listing.not_listed(), 1u);  // seed 4: the cap of passing ones is 2
  ExploreHtmlInput in{&r, listing.Take(), 1, {{r.groups[0].what, "faultline run min.textproto"}}};
  const std::string html = ExploreReportHtml(in);
  const Page page = ReadPage(html);
  const std::vector<Element> bars = With(Plot(page, "bars"), "data-marker");
  ASSERT_EQ(bars.size(), checkers::kMarkerCount);
  for (const Element& b : bars) {
    const auto m = checkers::MarkerFromName(b.at("data-marker"));
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(b.at("data-seeds"), std::to_string(r.marker_hits[static_cast<size_t>(*m)]));
  }
  size_t rows = 0;
  for (size_t at = html.find("<tr data-seed="); at != std::string::npos;
       at = html.find("<tr data-seed=", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 3u);
  EXPECT_NE(html.find("faultline minimize x.textproto --seed 3"), std::string::npos);
  EXPECT_NE(html.find("faultline run min.textproto"), std::string::npos);
  EXPECT_NE(html.find("EO-OUT: a &lt;record&gt; lost"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("2.0 seeds/s"), std::string::npos);
}

// A real exploration: each coverage bar's seed count equals the JSON lines that name its marker,
// and the page lists one row per JSON line (every seed, under the cap).
TEST(ExploreHtmlTest, BarsAndRowsMatchTheJsonLines) {
  Result<scenarios::Scenario> s = scenarios::LoadScenarioFile(
      std::string(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/nemesis_swarm.textproto");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  search::ExploreOptions options;
  options.source = search::ScenarioFileSource(*s);
  options.source_label = s->path;
  options.seeds = 6;
  options.jobs = 2;
  std::vector<nlohmann::json> lines;
  SeedListing listing(100);
  options.on_result = [&](const search::SeedResult& r) {
    lines.push_back(nlohmann::json::parse(search::SeedResultJson(r)));
    listing.Add(r);
  };
  Result<search::ExploreReport> r = search::Explore(options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(lines.size(), 6u);
  const std::string html = ExploreReportHtml({&*r, listing.Take(), listing.not_listed(), {}});
  const Page page = ReadPage(html);
  const std::vector<Element> bars = With(Plot(page, "bars"), "data-marker");
  ASSERT_EQ(bars.size(), checkers::kMarkerCount);
  size_t reached = 0;
  for (const Element& b : bars) {
    size_t seeds = 0;
    for (const nlohmann::json& line : lines) {
      for (const nlohmann::json& m : line["markers"]) {
        if (m == b.at("data-marker")) ++seeds;
      }
    }
    EXPECT_EQ(b.at("data-seeds"), std::to_string(seeds)) << b.at("data-marker");
    if (seeds > 0) ++reached;
  }
  EXPECT_GE(reached, 3u);  // a swarm reaches several markers
  for (const nlohmann::json& line : lines) {
    const std::string row =
        "<tr data-seed=\"" + std::to_string(line["seed"].get<uint64_t>()) + "\">";
    const size_t at = html.find(row);
    ASSERT_NE(at, std::string::npos) << row;
    EXPECT_NE(html.find(line["trace_hash"].get<std::string>(), at), std::string::npos);
  }
}

}  // namespace
}  // namespace faultline::report
