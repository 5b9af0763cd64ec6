// The dataflow canvas: the job's chains as columns, their subtasks (at the plan generation the
// job runs) as boxes coloured by phase, and by busy and back-pressured as Flink's job graph
// colours them; a subtask aligning a checkpoint marked with its barrier (coloured by checkpoint
// id) and its blocked inputs barred; a subtask whose TaskManager crashed greyed; its state size.
// Channels are edges, and what is in flight on them at the moment (gui/core/flow.h) is drawn
// along them: buffers waiting in the producer's output queue, on the wire at the fraction of
// their way they have covered, in the consumer's input queue; barriers as bars in their
// checkpoint's colour, an unaligned one as a diamond (it overtakes what is queued). In-flight
// items are painted in bulk (one drawRects call per colour), not as one object each. Laid out
// from the timeline's state; TaskBoxes(), Edges() and Marks() are what tests assert on.
#pragma once

#include <QPolygonF>
#include <QRectF>
#include <QString>
#include <QWidget>
#include <map>
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
  // Whether what is in flight is drawn (on by default).
  void set_show_flow(bool show) { show_flow_ = show; }
  // The task outlined as selected (empty: none).
  void SetSelected(const QString& task) {
    selected_ = task;
    update();
  }
  bool show_flow() const { return show_flow_; }

  struct TaskBox {
    QString name;
    TaskPhase phase = TaskPhase::kDeployed;
    uint32_t node = 0;
    bool node_down = false;
    int64_t aligning = 0;  // the checkpoint its barriers are arriving for (0: none)
    int barrier_inputs = 0;
    size_t column = 0;           // its chain's index
    bool backpressured = false;  // an output queue at the limit: waiting for credit
    double busy = 0;             // input queues' fill, 0..1
    int64_t state_entries = 0;   // keyed-state entries of its last snapshot
    int64_t state_bytes = 0;     // what its last snapshot uploaded
    QRectF rect;
  };
  const std::vector<TaskBox>& TaskBoxes() const { return boxes_; }

  // A channel: producer box -> consumer box, its consumer's input `input`.
  struct Edge {
    size_t from = 0;  // index into TaskBoxes()
    size_t to = 0;
    uint32_t input = 0;
    bool blocked = false;  // aligned: the barrier came in on it, the input waits
    QPointF start, end;
  };
  const std::vector<Edge>& Edges() const { return edges_; }
  // The edge passing within a few pixels of `at` (the nearest); -1 when none.
  int EdgeAt(const QPointF& at) const;

  // What the last layout put on the canvas, by kind (tests compare it with the flow's frame).
  struct Marks {
    size_t records_buffers = 0;  // buffers of records
    uint64_t records = 0;        // records in them
    size_t barriers = 0;
    size_t unaligned_barriers = 0;
    size_t other = 0;       // end of data, cancel markers
    size_t on_wire = 0;     // of all of the above, on the wire
    size_t queued = 0;      // in a queue
    size_t fill_calls = 0;  // drawRects calls the last paint made for them
  };
  const Marks& marks() const { return marks_; }
  const FlowFrame& frame() const { return frame_; }

  QSize sizeHint() const override { return {900, 360}; }

 signals:
  // A right click on a task's box: the actions a person may take there (faults at this moment).
  void TaskMenuRequested(const QString& task, uint32_t node, const QPoint& global);
  // A left click on a task's box (the inspector shows it).
  void TaskSelected(const QString& task);
  // A right click on a channel: the link's actions (slow it, partition it).
  void ChannelMenuRequested(const QString& from, uint32_t from_node, const QString& to,
                            uint32_t to_node, const QPoint& global);

 protected:
  void contextMenuEvent(QContextMenuEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void Layout();
  void LayoutFlow();

  const Recording* recording_ = nullptr;
  RunState state_;
  FlowFrame frame_;
  bool show_flow_ = true;
  QString selected_;
  std::vector<TaskBox> boxes_;
  std::vector<Edge> edges_;
  // In-flight items by fill colour (QColor::rgba), as rectangles; barriers likewise, and
  // unaligned barriers as diamonds.
  std::map<unsigned, std::vector<QRectF>> item_rects_;
  std::map<unsigned, std::vector<QPolygonF>> item_diamonds_;
  Marks marks_;
  std::vector<std::pair<QString, QRectF>> columns_;  // chain name, column header
};

// A checkpoint id's colour (barriers and snapshots): a hue per id, stable across views.
QColor CheckpointColour(int64_t id);

}  // namespace faultline::gui
