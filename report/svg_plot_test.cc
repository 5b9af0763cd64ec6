#include "report/svg_plot.h"

#include <gtest/gtest.h>

#include "report/fault_windows.h"
#include "report/markup.h"
#include "report/svg_parse_test_util.h"

namespace faultline::report {
namespace {

using testing::Element;
using testing::ParseSvg;
using testing::With;

TEST(MarkupTest, EscapesEverythingMarkupReads) {
  EXPECT_EQ(Escape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  EXPECT_EQ(Escape("</script><script>alert(1)</script>"),
            "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(Escape("&amp;"), "&amp;amp;");  // never taken as already escaped
  EXPECT_EQ(Escape(std::string("a\x01"
                               "b\tc\n",
                               6)),
            "a\xEF\xBF\xBD"
            "b\tc\n");
  EXPECT_EQ(Escape("plain text 1.5s"), "plain text 1.5s");
}

TEST(MarkupTest, NumbersAndBytes) {
  EXPECT_EQ(Num(12.5), "12.5");
  EXPECT_EQ(Num(3.0), "3");
  EXPECT_EQ(Num(-0.001), "0");
  EXPECT_EQ(Num(2.345), "2.35");
  EXPECT_EQ(Bytes(812), "812 B");
  EXPECT_EQ(Bytes(11.7 * 1024), "11.7 KiB");
  EXPECT_EQ(Bytes(3.25 * 1024 * 1024), "3.2 MiB");
}

TEST(SvgPlotTest, NiceSteps) {
  EXPECT_DOUBLE_EQ(NiceStep(10, 5), 2);
  EXPECT_DOUBLE_EQ(NiceStep(7.5, 8), 1);
  EXPECT_DOUBLE_EQ(NiceStep(0.03, 4), 0.01);
  EXPECT_DOUBLE_EQ(NiceStep(120, 4), 50);
  EXPECT_DOUBLE_EQ(NiceStep(0, 4), 1);
}

TEST(SvgPlotTest, EveryElementCarriesItsAttributesAndTextIsEscaped) {
  TimePlotOptions options;
  options.title = "t <&> \"q\"";
  options.y_label = "ms";
  options.x_max = 10;
  options.y_max = 30;
  TimePlot plot(options);
  plot.Band(1, 2, "F1", "a \"b\" <c>", {{"data-fault-window", "1"}, {"data-key", "x<y&z"}});
  plot.Band(5, 5, "F2", "", {{"data-fault-window", "2"}});
  plot.Mark(3, "R1", "r", {{"data-recovery", "1"}});
  plot.Point(0.5, 17, PointShape::kDot, "p1", {{"data-checkpoint", "1"}});
  plot.Point(1.0, 99, PointShape::kDot, "p2", {{"data-checkpoint", "2"}});
  plot.Point(1.5, 3, PointShape::kCross, "x", {{"data-checkpoint-aborted", "3"}});
  plot.ConnectDots();
  std::string error;
  const std::vector<Element> all = ParseSvg(plot.Svg(), &error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(With(all, "data-fault-window").size(), 2u);
  EXPECT_EQ(With(all, "data-fault-window")[0].at("data-key"), "x<y&z");
  EXPECT_EQ(With(all, "data-recovery").size(), 1u);
  EXPECT_EQ(With(all, "data-checkpoint").size(), 2u);
  EXPECT_EQ(With(all, "data-checkpoint-aborted").size(), 1u);
  EXPECT_EQ(all.front().at("aria-label"), "t <&> \"q\"");
  // A point above the axis is drawn at its top, not outside the plot.
  const Element& high = With(all, "data-checkpoint")[1];
  EXPECT_GE(std::stod(high.at("cy")), 0);
  // An instant still shows as a band at least 2 units wide.
  size_t rects = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].name == "rect" && std::stod(all[i].at("width")) >= 2) ++rects;
  }
  EXPECT_EQ(rects, 2u);
}

TEST(SvgPlotTest, BarChartOneBarPerRowScaledToMax) {
  const std::string svg = BarChart("rates",
                                   {{"a<b", 5, "50%", "tip", {{"data-marker", "a"}}},
                                    {"c", 10, "100%", "", {{"data-marker", "c"}}}},
                                   10);
  std::string error;
  const std::vector<Element> all = ParseSvg(svg, &error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(With(all, "data-marker").size(), 2u);
  std::vector<double> widths;
  for (const Element& e : all) {
    if (e.name == "rect" && !e.has("class")) widths.push_back(std::stod(e.at("width")));
  }
  ASSERT_EQ(widths.size(), 2u);
  EXPECT_NEAR(widths[1], 2 * widths[0], 0.02);
}

TEST(SvgParseTest, RejectsMalformedMarkup) {
  std::string error;
  ParseSvg("<svg><g></svg>", &error);
  EXPECT_NE(error, "");
  error.clear();
  ParseSvg("<svg><text>a<b</text></svg>", &error);
  EXPECT_NE(error, "");
  error.clear();
  ParseSvg("<svg a=\"x & y\"></svg>", &error);
  EXPECT_NE(error, "");
  error.clear();
  ParseSvg("<svg a=\"x &amp; y\"><g/></svg>", &error);
  EXPECT_EQ(error, "");
}

scenarios::FaultRecord At(double seconds, std::string what) {
  return {Time::Zero() + Duration::Nanos(static_cast<int64_t>(seconds * 1e9)), std::move(what)};
}

TEST(FaultWindowsTest, OneWindowPerFault) {
  const std::vector<scenarios::FaultRecord> faults = {
      At(1.0, "fault outage @ chk-3/a at blob-put on node 1"),
      At(1.1, "node 1 crashed (injected fault crash-1)"),
      At(1.5, "fault outage @ chk-3/b at blob-put on node 2"),
      At(2.0, "node 1 restarted"),
      At(2.5, "network partition 7"),
      At(3.0, "clock of node 2 set: offset 5 ns, drift 0 ppm"),
      At(3.5, "node 3 paused"),
      At(4.0, "node 3 resumed"),
      At(4.5, "node 2 crashed (nemesis/crash#4)"),
  };
  const std::vector<FaultWindow> w = FaultWindows(faults, Time::Zero() + Duration::Seconds(9));
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[0].label, "outage");
  EXPECT_EQ(w[0].events, 2u);
  EXPECT_DOUBLE_EQ(w[0].end.seconds(), 1.5);
  EXPECT_EQ(w[1].label, "crash-1: node 1 down");
  EXPECT_DOUBLE_EQ(w[1].end.seconds(), 2.0);
  EXPECT_FALSE(w[1].open);
  EXPECT_EQ(w[2].label, "network partition 7");
  EXPECT_TRUE(w[2].open);  // never healed: to the end of the run
  EXPECT_DOUBLE_EQ(w[2].end.seconds(), 9.0);
  EXPECT_DOUBLE_EQ(w[3].start.seconds(), w[3].end.seconds());  // an instant
  EXPECT_EQ(w[4].label, "node 3 paused");
  EXPECT_EQ(w[5].label, "node 2 down (nemesis/crash#4)");
}

}  // namespace
}  // namespace faultline::report
