#include "gui/app/scrubber.h"

#include <QHelpEvent>
#include <QPainter>
#include <QStyle>
#include <QStyleOptionSlider>
#include <QToolTip>
#include <cstdlib>
#include <utility>

namespace faultline::gui {
namespace {

QColor MarkColour(Moment::Kind kind) {
  switch (kind) {
    case Moment::Kind::kFault:
      return QColor(0xd3, 0x2f, 0x2f);
    case Moment::Kind::kRecovery:
      return QColor(0x15, 0x65, 0xc0);
    case Moment::Kind::kCheckpointCompleted:
      return QColor(0x2e, 0x7d, 0x32);
    case Moment::Kind::kCheckpointAborted:
      return QColor(0xef, 0x6c, 0x00);
    case Moment::Kind::kJobEnd:
      return QColor(0x45, 0x5a, 0x64);
    case Moment::Kind::kViolation:
      return QColor(0xc2, 0x18, 0x5b);
  }
  return Qt::black;
}

}  // namespace

Scrubber::Scrubber(QWidget* parent) : QSlider(Qt::Horizontal, parent) {
  setMinimumHeight(34);
  setMouseTracking(true);
}

void Scrubber::SetMarks(std::vector<Mark> marks) {
  marks_ = std::move(marks);
  update();
}

int Scrubber::XOf(int ms) const {
  QStyleOptionSlider option;
  initStyleOption(&option);
  const QRect groove =
      style()->subControlRect(QStyle::CC_Slider, &option, QStyle::SC_SliderGroove, this);
  const QRect handle =
      style()->subControlRect(QStyle::CC_Slider, &option, QStyle::SC_SliderHandle, this);
  const int span = groove.width() - handle.width();
  return groove.left() + handle.width() / 2 +
         QStyle::sliderPositionFromValue(minimum(), maximum(), ms, std::max(1, span));
}

void Scrubber::paintEvent(QPaintEvent* event) {
  QSlider::paintEvent(event);
  QPainter p(this);
  const int bottom = height() - 1;
  for (const Mark& mark : marks_) {
    const int x = XOf(mark.ms);
    const int tall = mark.kind == Moment::Kind::kViolation ? 12 : 7;
    p.setPen(QPen(MarkColour(mark.kind), mark.kind == Moment::Kind::kViolation ? 3 : 2));
    p.drawLine(x, bottom - tall, x, bottom);
  }
}

bool Scrubber::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    const auto* help = static_cast<QHelpEvent*>(event);
    QString text;
    for (const Mark& mark : marks_) {
      if (std::abs(XOf(mark.ms) - help->pos().x()) <= 3) {
        if (!text.isEmpty()) text += "\n";
        text += mark.text;
      }
    }
    if (text.isEmpty()) {
      QToolTip::hideText();
    } else {
      QToolTip::showText(help->globalPos(), text, this);
    }
    return true;
  }
  return QSlider::event(event);
}

}  // namespace faultline::gui
