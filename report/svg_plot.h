// Plots as inline SVG, generated here so a report needs no script and no network: a plot over
// simulated time (points, shaded windows, vertical marks) and a horizontal bar chart. Every
// element a test or a reader may count carries the data- attributes its caller gives it, and a
// <title> child, which browsers show as a tooltip without JavaScript.
//
//   TimePlot plot({.title = "Checkpoint duration", .y_label = "ms", .x_max = 8.0, .y_max = 30});
//   plot.Band(1.5, 2.0, "F1", {{"data-fault-window", "1"}});
//   plot.Point(0.51, 17.4, "checkpoint 1: 17.4 ms", {{"data-checkpoint", "1"}});
//   std::string svg = plot.Svg();
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faultline::report {

// Attributes of one element, name and (unescaped) value: {"data-checkpoint", "3"}.
using Attrs = std::vector<std::pair<std::string, std::string>>;

struct TimePlotOptions {
  std::string title;      // the plot's accessible name (aria-label) and heading
  std::string y_label;    // empty: no y axis (a timeline strip)
  double x_max = 1;       // seconds of simulated time on the x axis, from 0
  double y_max = 1;       // the y axis, from 0 (rounded up to a tick)
  double height = 220;    // in viewBox units; the width is 720
  std::string css_class;  // added to the <svg>
  std::function<std::string(double)> y_tick_text;  // default: Num
};

enum class PointShape { kDot, kCross, kDiamond };

class TimePlot {
 public:
  explicit TimePlot(TimePlotOptions options);

  // A shaded window [x0, x1] (seconds) over the plot's height, with `label` above it (in a
  // second row when it would overlap the previous band's). Add bands in order of x0.
  void Band(double x0, double x1, std::string_view label, std::string_view tooltip,
            const Attrs& attrs);
  // A vertical line at x with `label` at its foot.
  void Mark(double x, std::string_view label, std::string_view tooltip, const Attrs& attrs);
  // One point; y is clamped to the axis.
  void Point(double x, double y, PointShape shape, std::string_view tooltip, const Attrs& attrs);
  // A line through the points added with Point(..., kDot) so far, in the order added.
  void ConnectDots() { connect_ = true; }

  std::string Svg() const;

 private:
  double X(double seconds) const;
  double Y(double value) const;

  TimePlotOptions options_;
  double y_top_ = 1;   // the y axis's top value (a tick)
  double y_step_ = 1;  // between ticks
  double x_step_ = 1;
  std::string bands_;
  double label_end_[2] = {0, 0};  // where the last band label of each row ends
  std::string marks_;
  std::string points_;
  std::vector<std::pair<double, double>> dots_;
  bool connect_ = false;
};

struct Bar {
  std::string label;
  double value = 0;        // in [0, max]
  std::string value_text;  // shown at the bar's end
  std::string tooltip;
  Attrs attrs;
};

// Horizontal bars, one row each, scaled to `max` (e.g. the seeds run).
std::string BarChart(std::string_view title, const std::vector<Bar>& bars, double max);

// A tick step of 1, 2 or 5 times a power of ten giving about `ticks` ticks over [0, range].
double NiceStep(double range, int ticks);

}  // namespace faultline::report
