#include "gui/app/dataflow_view.h"

#include <QColor>
#include <QContextMenuEvent>
#include <QFontMetrics>
#include <QPainter>
#include <QPen>
#include <algorithm>

namespace faultline::gui {
namespace {

// Flink's job graph colours: idle blue, then the phases here.
QColor PhaseColour(TaskPhase phase, bool node_down) {
  if (node_down) return QColor(0x9e, 0x9e, 0x9e);
  switch (phase) {
    case TaskPhase::kDeployed:
      return QColor(0xe3, 0xf2, 0xfd);
    case TaskPhase::kRestoring:
      return QColor(0xd1, 0xc4, 0xe9);
    case TaskPhase::kRunning:
      return QColor(0x5d, 0xb1, 0xff);
    case TaskPhase::kAligning:
      return QColor(0xff, 0xcc, 0x80);
    case TaskPhase::kFinished:
      return QColor(0xcf, 0xd8, 0xdc);
    case TaskPhase::kLost:
      return QColor(0x75, 0x75, 0x75);
    case TaskPhase::kCanceled:
      return QColor(0xee, 0xee, 0xee);
  }
  return Qt::white;
}

}  // namespace

QColor CheckpointColour(int64_t id) {
  return QColor::fromHsv(static_cast<int>((id * 67) % 360), 200, 220);
}

DataflowView::DataflowView(QWidget* parent) : QWidget(parent) {
  setMinimumSize(400, 200);
  setAutoFillBackground(true);
}

void DataflowView::SetState(const RunState& state) {
  state_ = state;
  Layout();
  update();
}

void DataflowView::contextMenuEvent(QContextMenuEvent* event) {
  for (const TaskBox& box : boxes_) {
    if (box.rect.contains(event->pos())) {
      emit TaskMenuRequested(box.name, box.node, event->globalPos());
      event->accept();
      return;
    }
  }
}

void DataflowView::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  Layout();
}

void DataflowView::Layout() {
  boxes_.clear();
  columns_.clear();
  if (recording_ == nullptr || recording_->chains.empty()) return;
  const auto chains = static_cast<double>(recording_->chains.size());
  const double column_width = static_cast<double>(width()) / chains;
  const double header = 28;
  for (size_t c = 0; c < recording_->chains.size(); ++c) {
    const ChainLayout& chain = recording_->chains[c];
    const double x = column_width * static_cast<double>(c);
    columns_.emplace_back(QString::fromStdString(chain.name),
                          QRectF(x + 4, 4, column_width - 8, header - 8));
    if (state_.generation >= chain.tasks_by_generation.size()) continue;
    const std::vector<std::string>& tasks = chain.tasks_by_generation[state_.generation];
    const double row_height =
        std::min(60.0, (static_cast<double>(height()) - header) /
                           static_cast<double>(std::max<size_t>(1, tasks.size())));
    for (size_t i = 0; i < tasks.size(); ++i) {
      TaskBox box;
      box.name = QString::fromStdString(tasks[i]);
      if (auto it = state_.tasks.find(tasks[i]); it != state_.tasks.end()) {
        box.phase = it->second.phase;
        box.node = it->second.node;
        box.aligning = it->second.aligning;
        box.barrier_inputs = static_cast<int>(it->second.barrier_inputs.size());
      }
      box.node_down = state_.nodes_down.contains(box.node);
      box.column = c;
      box.rect = QRectF(x + 10, header + row_height * static_cast<double>(i) + 3, column_width - 20,
                        row_height - 6);
      boxes_.push_back(box);
    }
  }
}

void DataflowView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), palette().base());
  p.setPen(palette().text().color());
  for (const auto& [name, rect] : columns_) {
    p.drawText(rect, Qt::AlignCenter, name);
  }
  // Edges between neighbouring columns' boxes: the exchanges.
  QPen edge(QColor(0xb0, 0xbe, 0xc5));
  edge.setWidthF(0.8);
  p.setPen(edge);
  for (const TaskBox& from : boxes_) {
    for (const TaskBox& to : boxes_) {
      if (to.column != from.column + 1) continue;
      p.drawLine(QPointF(from.rect.right(), from.rect.center().y()),
                 QPointF(to.rect.left(), to.rect.center().y()));
    }
  }
  for (const TaskBox& box : boxes_) {
    p.setPen(QPen(QColor(0x37, 0x47, 0x4f), box.phase == TaskPhase::kAligning ? 2.0 : 1.0));
    p.setBrush(PhaseColour(box.phase, box.node_down));
    p.drawRoundedRect(box.rect, 6, 6);
    QString text = box.name + "\n" +
                   QString::fromUtf8(TaskPhaseName(box.phase).data(),
                                     static_cast<qsizetype>(TaskPhaseName(box.phase).size()));
    if (box.node_down) text += " (node " + QString::number(box.node) + " down)";
    if (box.aligning != 0) {
      text += " cp " + QString::number(box.aligning) + ", " + QString::number(box.barrier_inputs) +
              " in";
      // The barrier: a bar of its checkpoint's colour at the box's input side.
      p.setPen(Qt::NoPen);
      p.setBrush(CheckpointColour(box.aligning));
      p.drawRect(QRectF(box.rect.left() - 6, box.rect.top() + 2, 5, box.rect.height() - 4));
    }
    p.setPen(palette().text().color());
    p.drawText(box.rect.adjusted(6, 2, -6, -2), Qt::AlignCenter | Qt::TextWordWrap, text);
  }
}

}  // namespace faultline::gui
