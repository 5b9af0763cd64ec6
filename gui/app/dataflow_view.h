// The dataflow canvas: the job's chains as columns, their subtasks (at the plan generation the
// job runs) as boxes coloured by phase, a subtask aligning a checkpoint marked with its barrier
// (coloured by checkpoint id) and the inputs it came in on, a subtask whose TaskManager crashed
// greyed. Laid out from the timeline's state; TaskBoxes() is what tests assert on.
#pragma once

#include <QRectF>
#include <QString>
#include <QWidget>
#include <vector>

#include "gui/core/recording.h"
#include "gui/core/timeline.h"

namespace faultline::gui {

class DataflowView final : public QWidget {
  Q_OBJECT

 public:
  explicit DataflowView(QWidget* parent = nullptr);

  void SetRecording(const Recording* recording) { recording_ = recording; }
  void SetState(const RunState& state);

  struct TaskBox {
    QString name;
    TaskPhase phase = TaskPhase::kDeployed;
    uint32_t node = 0;
    bool node_down = false;
    int64_t aligning = 0;  // the checkpoint its barriers are arriving for (0: none)
    int barrier_inputs = 0;
    size_t column = 0;  // its chain's index
    QRectF rect;
  };
  const std::vector<TaskBox>& TaskBoxes() const { return boxes_; }

  QSize sizeHint() const override { return {900, 360}; }

 signals:
  // A right click on a task's box: the actions a person may take there (faults at this moment).
  void TaskMenuRequested(const QString& task, uint32_t node, const QPoint& global);

 protected:
  void contextMenuEvent(QContextMenuEvent* event) override;
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void Layout();

  const Recording* recording_ = nullptr;
  RunState state_;
  std::vector<TaskBox> boxes_;
  std::vector<std::pair<QString, QRectF>> columns_;  // chain name, column header
};

// A checkpoint id's colour (barriers and snapshots): a hue per id, stable across views.
QColor CheckpointColour(int64_t id);

}  // namespace faultline::gui
