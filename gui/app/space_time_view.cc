#include "gui/app/space_time_view.h"

#include <QContextMenuEvent>
#include <QMenu>
#include <QPainter>
#include <QPen>
#include <QWheelEvent>
#include <algorithm>

#include "gui/app/dataflow_view.h"

namespace faultline::gui {
namespace {

constexpr double kLabelWidth = 150;
constexpr double kTop = 36;

}  // namespace

SpaceTimeView::SpaceTimeView(QWidget* parent) : QWidget(parent) {
  setMinimumSize(400, 150);
}

void SpaceTimeView::SetModel(const SpaceTime* model) {
  model_ = model;
  Relayout();
}

void SpaceTimeView::Relayout() {
  row_of_.clear();
  rows_ = 0;
  if (model_ != nullptr) {
    for (const std::string& lane : model_->lanes) {
      const QString name = QString::fromStdString(lane);
      const bool shown = !hidden_.contains(lane) &&
                         (filter_.isEmpty() || name.contains(filter_, Qt::CaseInsensitive));
      row_of_.push_back(shown ? static_cast<int>(rows_++) : -1);
    }
  }
  update();
}

void SpaceTimeView::SetLaneFilter(const QString& text) {
  filter_ = text.trimmed();
  Relayout();
}

void SpaceTimeView::HideLane(size_t lane, bool hidden) {
  if (model_ == nullptr || lane >= model_->lanes.size()) return;
  if (hidden) {
    hidden_.insert(model_->lanes[lane]);
  } else {
    hidden_.erase(model_->lanes[lane]);
  }
  Relayout();
}

void SpaceTimeView::ShowAllLanes() {
  hidden_.clear();
  filter_.clear();
  Relayout();
}

int SpaceTimeView::LaneAt(double y) const {
  for (size_t lane = 0; lane < row_of_.size(); ++lane) {
    if (row_of_[lane] >= 0 && std::abs(YOf(lane) - y) <= RowStep() / 2) {
      return static_cast<int>(lane);
    }
  }
  return -1;
}

void SpaceTimeView::contextMenuEvent(QContextMenuEvent* event) {
  QMenu menu(this);
  const int lane = LaneAt(event->pos().y());
  if (lane >= 0) {
    const std::string name = model_->lanes[static_cast<size_t>(lane)];
    menu.addAction("Hide " + QString::fromStdString(name),
                   [this, lane] { HideLane(static_cast<size_t>(lane), true); });
    const std::string chain = name.substr(0, name.rfind('#'));
    menu.addAction("Show only " + QString::fromStdString(chain),
                   [this, chain] { SetLaneFilter(QString::fromStdString(chain) + "#"); });
  }
  menu.addAction("Show all lanes", [this] { ShowAllLanes(); });
  menu.exec(event->globalPos());
}

void SpaceTimeView::SetNow(Time now) {
  now_ = now;
  update();
}

void SpaceTimeView::SetWindow(Duration width) {
  window_ = std::clamp(width, Duration::Millis(10), Duration::Seconds(600));
  update();
}

Time SpaceTimeView::From() const {
  return now_ - window_ > Time::Zero() ? now_ - window_ : Time::Zero();
}

double SpaceTimeView::XOf(Time t) const {
  const double span = static_cast<double>(window_.nanos()) * 1.05;  // room after now
  const double offset = static_cast<double>((t - From()).nanos());
  return kLabelWidth + (static_cast<double>(width()) - kLabelWidth - 10) * offset / span;
}

double SpaceTimeView::RowStep() const {
  return (static_cast<double>(height()) - kTop - 10) /
         static_cast<double>(std::max<size_t>(1, rows_));
}

double SpaceTimeView::YOf(size_t lane) const {
  if (lane >= row_of_.size() || row_of_[lane] < 0) return -1;
  return kTop + RowStep() * (static_cast<double>(row_of_[lane]) + 0.5);
}

size_t SpaceTimeView::VisibleArrows() const {
  if (model_ == nullptr) return 0;
  const Time from = From();
  return static_cast<size_t>(
      std::count_if(model_->arrows.begin(), model_->arrows.end(), [&](const SpaceTime::Arrow& a) {
        return a.received <= now_ && a.received >= from && LaneVisible(a.from) && LaneVisible(a.to);
      }));
}

size_t SpaceTimeView::VisibleDots() const {
  if (model_ == nullptr) return 0;
  const Time from = From();
  return static_cast<size_t>(
      std::count_if(model_->dots.begin(), model_->dots.end(), [&](const SpaceTime::Dot& d) {
        return d.at <= now_ && d.at >= from && LaneVisible(d.lane);
      }));
}

void SpaceTimeView::wheelEvent(QWheelEvent* event) {
  const int steps = event->angleDelta().y() / 120;
  Duration w = window_;
  for (int i = 0; i < std::abs(steps); ++i) w = steps > 0 ? w / 2 : w * 2;
  SetWindow(w);
  event->accept();
}

void SpaceTimeView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  if (model_ == nullptr) return;
  p.setRenderHint(QPainter::Antialiasing);
  const Time from = From();
  const auto visible = [&](Time t) { return t >= from && t <= now_; };
  // Lanes.
  p.setPen(QColor(0xe0, 0xe0, 0xe0));
  for (size_t lane = 0; lane < model_->lanes.size(); ++lane) {
    if (!LaneVisible(lane)) continue;
    p.drawLine(QPointF(kLabelWidth, YOf(lane)), QPointF(width() - 10, YOf(lane)));
  }
  p.setPen(palette().text().color());
  for (size_t lane = 0; lane < model_->lanes.size(); ++lane) {
    if (!LaneVisible(lane)) continue;
    p.drawText(QRectF(4, YOf(lane) - 9, kLabelWidth - 8, 18), Qt::AlignRight | Qt::AlignVCenter,
               QString::fromStdString(model_->lanes[lane]));
  }
  // Alignment spans, shaded in their checkpoint's colour.
  for (const SpaceTime::Span& s : model_->spans) {
    if (s.to < from || s.from > now_ || !LaneVisible(s.lane)) continue;
    QColor c = CheckpointColour(s.checkpoint);
    c.setAlpha(90);
    const Time end = std::min(s.to, now_);
    p.fillRect(QRectF(QPointF(XOf(std::max(s.from, from)), YOf(s.lane) - 6),
                      QPointF(XOf(end), YOf(s.lane) + 6)),
               c);
  }
  // Barrier arrows (drawn once received).
  for (const SpaceTime::Arrow& a : model_->arrows) {
    if (!visible(a.received) || !LaneVisible(a.from) || !LaneVisible(a.to)) continue;
    p.setPen(QPen(CheckpointColour(a.checkpoint), 1.2));
    p.drawLine(QPointF(XOf(std::max(a.sent, from)), YOf(a.from)),
               QPointF(XOf(a.received), YOf(a.to)));
  }
  // Snapshots.
  p.setPen(Qt::NoPen);
  for (const SpaceTime::Dot& d : model_->dots) {
    if (!visible(d.at) || !LaneVisible(d.lane)) continue;
    p.setBrush(CheckpointColour(d.checkpoint).darker(130));
    p.drawEllipse(QPointF(XOf(d.at), YOf(d.lane)), 3.5, 3.5);
  }
  // Faults and recoveries, their labels on two rows so that neighbours do not overlap.
  int shown = 0;
  for (const SpaceTime::Line& l : model_->lines) {
    if (!visible(l.at)) continue;
    const double label_y = kTop - 22 + 13 * (shown++ % 2);
    const QColor c = l.kind == SpaceTime::Line::Kind::kFault ? QColor(0xc6, 0x28, 0x28)
                                                             : QColor(0x15, 0x65, 0xc0);
    p.setPen(QPen(c, 1.5, Qt::DashLine));
    p.drawLine(QPointF(XOf(l.at), kTop - 4), QPointF(XOf(l.at), height() - 6));
    p.drawText(QPointF(XOf(l.at) + 3, label_y), QString::fromStdString(l.text));
  }
  // Now.
  p.setPen(QPen(palette().text().color(), 1.5));
  p.drawLine(QPointF(XOf(now_), kTop - 4), QPointF(XOf(now_), height() - 6));
}

}  // namespace faultline::gui
