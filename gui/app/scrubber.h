// The scrubber: a slider over the run's simulated time (milliseconds) with marks under its groove
// for the moments worth finding: faults (red), recoveries (blue), completed checkpoints (green),
// aborted ones (orange) and checkers' violations (magenta, taller). marks() is what tests assert
// on; a mark's tooltip names it.
#pragma once

#include <QSlider>
#include <QString>
#include <vector>

#include "gui/core/timeline.h"

namespace faultline::gui {

class Scrubber final : public QSlider {
  Q_OBJECT

 public:
  explicit Scrubber(QWidget* parent = nullptr);

  struct Mark {
    int ms = 0;
    Moment::Kind kind = Moment::Kind::kFault;
    QString text;
  };
  void SetMarks(std::vector<Mark> marks);
  const std::vector<Mark>& marks() const { return marks_; }
  // The x coordinate of `ms` on the groove.
  int XOf(int ms) const;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  std::vector<Mark> marks_;
};

}  // namespace faultline::gui
