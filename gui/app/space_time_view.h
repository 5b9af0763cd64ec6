// The space-time diagram (gui/core/space_time.h) over a window of simulated time ending just
// after the current moment: a lane per subtask, barrier arrows coloured by checkpoint, alignment
// spans shaded, snapshots as dots, faults (red) and recoveries (blue) as vertical lines, the
// current moment as a black line. The mouse wheel zooms the window. Lanes can be filtered (those
// whose task name contains a text) and hidden one by one (right-click a lane: hide it, show only
// its chain, show all); arrows are drawn between visible lanes.
#pragma once

#include <QString>
#include <QWidget>
#include <set>
#include <vector>

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
  // Lanes: only those whose name contains `text` (case-insensitive; empty: all), less the hidden.
  void SetLaneFilter(const QString& text);
  const QString& lane_filter() const { return filter_; }
  void HideLane(size_t lane, bool hidden);
  void ShowAllLanes();
  size_t VisibleLanes() const { return rows_; }
  bool LaneVisible(size_t lane) const { return lane < row_of_.size() && row_of_[lane] >= 0; }
  // The lane drawn at height `y` (none: -1).
  int LaneAt(double y) const;

  QSize sizeHint() const override { return {900, 400}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void contextMenuEvent(QContextMenuEvent* event) override;

 private:
  Time From() const;
  double XOf(Time t) const;
  double YOf(size_t lane) const;
  double RowStep() const;
  void Relayout();  // rows from the filter and the hidden lanes

  const SpaceTime* model_ = nullptr;
  Time now_;
  Duration window_ = Duration::Millis(500);
  QString filter_;
  std::set<std::string> hidden_;  // by task name, so a hidden lane stays hidden across branches
  std::vector<int> row_of_;       // lane -> row, -1 when not shown
  size_t rows_ = 0;
};

}  // namespace faultline::gui
