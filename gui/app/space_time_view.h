// The space-time diagram (gui/core/space_time.h) over a window of simulated time ending just
// after the current moment: a lane per subtask, barrier arrows coloured by checkpoint, alignment
// spans shaded, snapshots as dots, faults (red) and recoveries (blue) as vertical lines, the
// current moment as a black line. The mouse wheel zooms the window.
#pragma once

#include <QWidget>

#include "gui/core/space_time.h"

namespace faultline::gui {

class SpaceTimeView final : public QWidget {
  Q_OBJECT

 public:
  explicit SpaceTimeView(QWidget* parent = nullptr);

  void SetModel(const SpaceTime* model);
  void SetNow(Time now);
  void SetWindow(Duration width);
  Duration window() const { return window_; }
  // What the window shows (tests assert on these): arrows and dots at or before now and within
  // the window.
  size_t VisibleArrows() const;
  size_t VisibleDots() const;

  QSize sizeHint() const override { return {900, 400}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;

 private:
  Time From() const;
  double XOf(Time t) const;
  double YOf(size_t lane) const;

  const SpaceTime* model_ = nullptr;
  Time now_;
  Duration window_ = Duration::Millis(500);
};

}  // namespace faultline::gui
