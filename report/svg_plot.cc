#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>

#include "report/markup.h"

namespace faultline::report {
namespace {

constexpr double kWidth = 720;
constexpr double kLeft = 64;
constexpr double kRight = 16;
constexpr double kTop = 34;
constexpr double kBottom = 36;

std::string AttrText(const Attrs& attrs) {
  std::string out;
  for (const auto& [name, value] : attrs) out += " " + name + "=\"" + Escape(value) + "\"";
  return out;
}

std::string Title(std::string_view tooltip) {
  return tooltip.empty() ? "" : "<title>" + Escape(tooltip) + "</title>";
}

}  // namespace

double NiceStep(double range, int ticks) {
  if (!(range > 0) || ticks < 1) return 1;
  const double raw = range / ticks;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

TimePlot::TimePlot(TimePlotOptions options) : options_(std::move(options)) {
  options_.x_max = options_.x_max > 0 ? options_.x_max : 1;
  options_.y_max = options_.y_max > 0 ? options_.y_max : 1;
  if (!options_.y_tick_text) options_.y_tick_text = [](double v) { return Num(v); };
  y_step_ = NiceStep(options_.y_max, 4);
  y_top_ = std::ceil(options_.y_max / y_step_ - 1e-9) * y_step_;
  x_step_ = NiceStep(options_.x_max, 8);
}

double TimePlot::X(double seconds) const {
  const double clamped = std::clamp(seconds, 0.0, options_.x_max);
  return kLeft + clamped / options_.x_max * (kWidth - kLeft - kRight);
}

double TimePlot::Y(double value) const {
  const double clamped = std::clamp(value, 0.0, y_top_);
  return options_.height - kBottom - clamped / y_top_ * (options_.height - kTop - kBottom);
}

void TimePlot::Band(double x0, double x1, std::string_view label, std::string_view tooltip,
                    const Attrs& attrs) {
  const double left = X(x0);
  const double width = std::max(X(x1) - left, 2.0);  // an instant still shows
  // The label in the lower of two rows above the plot unless it would overlap the last there.
  const double label_width = 7.0 * static_cast<double>(label.size()) + 4;
  const size_t row = left >= label_end_[0] ? 0 : left >= label_end_[1] ? 1 : 0;
  label_end_[row] = left + label_width;
  bands_ += "<g class=\"band\"" + AttrText(attrs) + ">" + Title(tooltip) + "<rect x=\"" +
            Num(left) + "\" y=\"" + Num(kTop) + "\" width=\"" + Num(width) + "\" height=\"" +
            Num(options_.height - kTop - kBottom) + "\"/><text x=\"" + Num(left + 1) + "\" y=\"" +
            Num(kTop - 4 - 12 * static_cast<double>(row)) + "\">" + Escape(label) + "</text></g>\n";
}

void TimePlot::Mark(double x, std::string_view label, std::string_view tooltip,
                    const Attrs& attrs) {
  const std::string at = Num(X(x));
  marks_ += "<g class=\"mark\"" + AttrText(attrs) + ">" + Title(tooltip) + "<line x1=\"" + at +
            "\" x2=\"" + at + "\" y1=\"" + Num(kTop) + "\" y2=\"" + Num(options_.height - kBottom) +
            "\"/><text x=\"" + at + "\" y=\"" + Num(options_.height - kBottom - 4) + "\">" +
            Escape(label) + "</text></g>\n";
}

void TimePlot::Point(double x, double y, PointShape shape, std::string_view tooltip,
                     const Attrs& attrs) {
  const double px = X(x);
  const double py = Y(y);
  std::string body;
  switch (shape) {
    case PointShape::kDot:
      dots_.emplace_back(px, py);
      body = "<circle class=\"dot\" cx=\"" + Num(px) + "\" cy=\"" + Num(py) + "\" r=\"3.5\"" +
             AttrText(attrs) + ">" + Title(tooltip) + "</circle>";
      break;
    case PointShape::kCross:
      body = "<path class=\"cross\" d=\"M" + Num(px - 4) + " " + Num(py - 4) + "l8 8m0 -8l-8 8\"" +
             AttrText(attrs) + ">" + Title(tooltip) + "</path>";
      break;
    case PointShape::kDiamond:
      body = "<path class=\"diamond\" d=\"M" + Num(px) + " " + Num(py - 6) + "l6 6l-6 6l-6 -6z\"" +
             AttrText(attrs) + ">" + Title(tooltip) + "</path>";
      break;
  }
  points_ += body + "\n";
}

std::string TimePlot::Svg() const {
  const double bottom = options_.height - kBottom;
  std::string out = "<svg class=\"plot " + Escape(options_.css_class) +
                    "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + Num(kWidth) + " " +
                    Num(options_.height) + "\" role=\"img\" aria-label=\"" +
                    Escape(options_.title) + "\">\n<title>" + Escape(options_.title) +
                    "</title>\n" + bands_ + "<g class=\"axis\">\n";
  for (double t = 0; t <= options_.x_max + 1e-9; t += x_step_) {
    const std::string x = Num(X(t));
    out += "<line x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + Num(bottom) + "\" y2=\"" +
           Num(bottom + 4) + "\"/><text class=\"xt\" x=\"" + x + "\" y=\"" + Num(bottom + 16) +
           "\">" + Num(t) + "</text>\n";
  }
  out += "<line x1=\"" + Num(kLeft) + "\" x2=\"" + Num(kWidth - kRight) + "\" y1=\"" + Num(bottom) +
         "\" y2=\"" + Num(bottom) + "\"/>\n<text class=\"xl\" x=\"" + Num(kWidth - kRight) +
         "\" y=\"" + Num(bottom + 30) + "\">simulated time (s)</text>\n";
  if (!options_.y_label.empty()) {
    for (double v = 0; v <= y_top_ + 1e-9 * y_top_; v += y_step_) {
      const std::string y = Num(Y(v));
      out += "<line class=\"grid\" x1=\"" + Num(kLeft) + "\" x2=\"" + Num(kWidth - kRight) +
             "\" y1=\"" + y + "\" y2=\"" + y + "\"/><text class=\"yt\" x=\"" + Num(kLeft - 6) +
             "\" y=\"" + y + "\">" + Escape(options_.y_tick_text(v)) + "</text>\n";
    }
    out += "<text class=\"yl\" x=\"4\" y=\"" + Num(kTop - 22) + "\">" + Escape(options_.y_label) +
           "</text>\n";
  }
  out += "</g>\n" + marks_;
  if (connect_ && dots_.size() > 1) {
    out += "<polyline class=\"line\" points=\"";
    for (const auto& [x, y] : dots_) out += Num(x) + "," + Num(y) + " ";
    out.pop_back();
    out += "\"/>\n";
  }
  return out + points_ + "</svg>\n";
}

std::string BarChart(std::string_view title, const std::vector<Bar>& bars, double max) {
  constexpr double kRow = 22;
  constexpr double kLabel = 230;
  constexpr double kValue = 90;
  const double height = kRow * static_cast<double>(bars.size()) + 8;
  const double span = kWidth - kLabel - kValue;
  std::string out = "<svg class=\"plot bars\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    Num(kWidth) + " " + Num(height) + "\" role=\"img\" aria-label=\"" +
                    Escape(title) + "\">\n<title>" + Escape(title) + "</title>\n";
  double y = 4;
  for (const Bar& bar : bars) {
    const double fraction = max > 0 ? std::clamp(bar.value / max, 0.0, 1.0) : 0;
    out += "<g class=\"bar\"" + AttrText(bar.attrs) + ">" + Title(bar.tooltip) +
           "<text class=\"bl\" x=\"" + Num(kLabel - 8) + "\" y=\"" + Num(y + kRow / 2) + "\">" +
           Escape(bar.label) + "</text><rect class=\"track\" x=\"" + Num(kLabel) + "\" y=\"" +
           Num(y + 3) + "\" width=\"" + Num(span) + "\" height=\"" + Num(kRow - 6) +
           "\"/><rect x=\"" + Num(kLabel) + "\" y=\"" + Num(y + 3) + "\" width=\"" +
           Num(fraction * span) + "\" height=\"" + Num(kRow - 6) + "\"/><text class=\"bv\" x=\"" +
           Num(kLabel + span + 6) + "\" y=\"" + Num(y + kRow / 2) + "\">" + Escape(bar.value_text) +
           "</text></g>\n";
    y += kRow;
  }
  return out + "</svg>\n";
}

}  // namespace faultline::report
