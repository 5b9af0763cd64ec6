#include "gui/app/dataflow_view.h"

#include <QColor>
#include <QContextMenuEvent>
#include <QFontMetrics>
#include <QLineF>
#include <QMouseEvent>
#include <QPainter>
#include <QPen>
#include <algorithm>
#include <cmath>

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
  frame_ = recording_ == nullptr || !show_flow_
               ? FlowFrame{}
               : recording_->flow.FrameAt(state_.now, state_.attempt);
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
  if (const int e = EdgeAt(event->pos()); e >= 0) {
    const TaskBox& from = boxes_[edges_[static_cast<size_t>(e)].from];
    const TaskBox& to = boxes_[edges_[static_cast<size_t>(e)].to];
    emit ChannelMenuRequested(from.name, from.node, to.name, to.node, event->globalPos());
    event->accept();
  }
}

void DataflowView::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) {
    for (const TaskBox& box : boxes_) {
      if (box.rect.contains(event->position())) {
        emit TaskSelected(box.name);
        event->accept();
        return;
      }
    }
  }
  QWidget::mousePressEvent(event);
}

int DataflowView::EdgeAt(const QPointF& at) const {
  int best = -1;
  double nearest = 5.0;  // pixels
  for (size_t e = 0; e < edges_.size(); ++e) {
    const QPointF a = edges_[e].start;
    const QPointF d = edges_[e].end - a;
    const double length2 = d.x() * d.x() + d.y() * d.y();
    if (length2 <= 0) continue;
    const double k =
        std::clamp(((at.x() - a.x()) * d.x() + (at.y() - a.y()) * d.y()) / length2, 0.0, 1.0);
    const QPointF closest = a + d * k;
    const double distance = std::hypot(at.x() - closest.x(), at.y() - closest.y());
    if (distance <= nearest) {
      nearest = distance;
      best = static_cast<int>(e);
    }
  }
  return best;
}

void DataflowView::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  Layout();
}

void DataflowView::Layout() {
  boxes_.clear();
  edges_.clear();
  columns_.clear();
  if (recording_ == nullptr || recording_->chains.empty()) {
    LayoutFlow();
    return;
  }
  const auto chains = static_cast<double>(recording_->chains.size());
  const double column_width = static_cast<double>(width()) / chains;
  const double header = 28;
  // Boxes take the middle of their column; the channels run in the gaps between columns.
  const double box_width = std::max(40.0, column_width * 0.45);
  const std::vector<std::string>* names = nullptr;
  if (state_.generation < recording_->task_names_by_generation.size()) {
    names = &recording_->task_names_by_generation[state_.generation];
  }
  std::map<std::string, size_t> box_of;
  for (size_t c = 0; c < recording_->chains.size(); ++c) {
    const ChainLayout& chain = recording_->chains[c];
    const double x = column_width * static_cast<double>(c);
    columns_.emplace_back(QString::fromStdString(chain.name),
                          QRectF(x + 4, 4, column_width - 8, header - 8));
    if (state_.generation >= chain.tasks_by_generation.size()) continue;
    const std::vector<std::string>& tasks = chain.tasks_by_generation[state_.generation];
    const double row_height =
        std::min(64.0, (static_cast<double>(height()) - header - 24) /
                           static_cast<double>(std::max<size_t>(1, tasks.size())));
    for (size_t i = 0; i < tasks.size(); ++i) {
      TaskBox box;
      box.name = QString::fromStdString(tasks[i]);
      if (auto it = state_.tasks.find(tasks[i]); it != state_.tasks.end()) {
        box.phase = it->second.phase;
        box.node = it->second.node;
        box.aligning = it->second.aligning;
        box.barrier_inputs = static_cast<int>(it->second.barrier_inputs.size());
        box.state_entries = it->second.state_entries;
        box.state_bytes = it->second.state_bytes;
      }
      box.node_down = state_.nodes_down.contains(box.node);
      box.column = c;
      box.rect =
          QRectF(x + (column_width - box_width) / 2,
                 header + row_height * static_cast<double>(i) + 3, box_width, row_height - 6);
      box_of[tasks[i]] = boxes_.size();
      boxes_.push_back(box);
    }
  }
  // Back-pressured: an output queue at its limit at the moment.
  if (names != nullptr) {
    for (const auto& [task, flow] : frame_.tasks) {
      if (task >= names->size()) continue;
      auto it = box_of.find((*names)[task]);
      if (it == box_of.end()) continue;
      boxes_[it->second].backpressured = flow.backpressured;
    }
  }
  if (state_.generation < recording_->inputs_by_generation.size()) {
    for (const auto& [consumer, producers] : recording_->inputs_by_generation[state_.generation]) {
      auto to = box_of.find(consumer);
      if (to == box_of.end()) continue;
      const TaskBox& consumer_box = boxes_[to->second];
      const auto task = state_.tasks.find(consumer);
      for (uint32_t i = 0; i < producers.size(); ++i) {
        auto from = box_of.find(producers[i]);
        if (from == box_of.end()) continue;
        Edge edge;
        edge.from = from->second;
        edge.to = to->second;
        edge.input = i;
        edge.blocked = recording_->blocking_alignment && task != state_.tasks.end() &&
                       task->second.phase == TaskPhase::kAligning &&
                       task->second.barrier_inputs.contains(i);
        const QRectF& a = boxes_[edge.from].rect;
        const QRectF& b = consumer_box.rect;
        // Spread a box's channels over its side, so they do not all meet in one point.
        const double spread_out =
            (static_cast<double>(i % 7) - 3.0) / 8.0 * std::min(a.height(), 40.0) / 2.0;
        edge.start = QPointF(a.right(), a.center().y() + spread_out);
        const double spread_in = (static_cast<double>(i) + 0.5) /
                                     static_cast<double>(producers.size()) * b.height() * 0.8 +
                                 b.height() * 0.1;
        edge.end = QPointF(b.left(), b.top() + spread_in);
        edges_.push_back(edge);
      }
      // Busy as Flink measures it, roughly: how full its input queues are.
      if (recording_->channel_credits > 0 && !producers.empty() && names != nullptr) {
        const auto index = std::find(names->begin(), names->end(), consumer) - names->begin();
        if (auto f = frame_.tasks.find(static_cast<uint32_t>(index)); f != frame_.tasks.end()) {
          boxes_[to->second].busy = std::min(
              1.0, static_cast<double>(f->second.input_queued) /
                       static_cast<double>(producers.size() * recording_->channel_credits));
        }
      }
    }
  }
  LayoutFlow();
}

void DataflowView::LayoutFlow() {
  item_rects_.clear();
  item_diamonds_.clear();
  marks_ = Marks{};
  if (recording_ == nullptr || state_.generation >= recording_->task_names_by_generation.size()) {
    return;
  }
  const std::vector<std::string>& names = recording_->task_names_by_generation[state_.generation];
  // (producer box, consumer box) -> edge.
  std::map<std::pair<size_t, size_t>, size_t> edge_of;
  std::map<std::string, size_t> box_of;
  for (size_t b = 0; b < boxes_.size(); ++b) box_of[boxes_[b].name.toStdString()] = b;
  for (size_t e = 0; e < edges_.size(); ++e) edge_of[{edges_[e].from, edges_[e].to}] = e;
  constexpr double kSlot = 7;  // a queued buffer's place
  for (const InFlight& f : frame_.items) {
    const FlowItem& item = *f.item;
    if (item.producer >= names.size() || item.consumer >= names.size()) continue;
    const auto from = box_of.find(names[item.producer]);
    const auto to = box_of.find(names[item.consumer]);
    if (from == box_of.end() || to == box_of.end()) continue;
    const auto e = edge_of.find({from->second, to->second});
    if (e == edge_of.end()) continue;
    const Edge& edge = edges_[e->second];
    const QPointF along = edge.end - edge.start;
    const double length = std::hypot(along.x(), along.y());
    if (length < 1) continue;
    // The output queue holds the first 15 % of the way, the input queue the last 15 %.
    double d = 0;
    switch (f.where) {
      case InFlight::Where::kOutputQueue:
        d = std::max(2.0, 0.15 * length - (f.position + 0.5) * kSlot);
        ++marks_.queued;
        break;
      case InFlight::Where::kNetwork:
        d = 0.15 * length + f.position * 0.7 * length;
        ++marks_.on_wire;
        break;
      case InFlight::Where::kInputQueue:
        d = std::min(length - 2.0, 0.85 * length + (f.position + 0.5) * kSlot);
        ++marks_.queued;
        break;
    }
    const QPointF at = edge.start + along * (d / length);
    switch (item.buffer.kind) {
      case engine::BufferInfo::Kind::kRecords:
        ++marks_.records_buffers;
        marks_.records += item.buffer.records;
        item_rects_[QColor(0x26, 0x32, 0x38).rgba()].emplace_back(at.x() - 2.5, at.y() - 2.5, 5, 5);
        break;
      case engine::BufferInfo::Kind::kBarrier: {
        const QColor colour = CheckpointColour(static_cast<int64_t>(item.buffer.checkpoint));
        if (item.buffer.unaligned) {
          ++marks_.unaligned_barriers;
          item_diamonds_[colour.rgba()].push_back(QPolygonF(
              {at + QPointF(0, -6), at + QPointF(6, 0), at + QPointF(0, 6), at + QPointF(-6, 0)}));
        } else {
          ++marks_.barriers;
          item_rects_[colour.rgba()].emplace_back(at.x() - 1.5, at.y() - 7, 3, 14);
        }
        break;
      }
      default:
        ++marks_.other;
        item_rects_[(item.buffer.kind == engine::BufferInfo::Kind::kCancelMarker
                         ? QColor(0xe5, 0x39, 0x35)
                         : QColor(Qt::black))
                        .rgba()]
            .emplace_back(at.x() - 2, at.y() - 4, 4, 8);
        break;
    }
  }
}

namespace {

QString Size(int64_t bytes) {
  if (bytes < 1024) return QString::number(bytes) + " B";
  if (bytes < 1024 * 1024)
    return QString::number(static_cast<double>(bytes) / 1024, 'f', 1) + " KB";
  return QString::number(static_cast<double>(bytes) / (1024 * 1024), 'f', 1) + " MB";
}

// Running tasks as Flink's job graph shows them: idle blue to busy red; back-pressured dark.
QColor BoxColour(const DataflowView::TaskBox& box) {
  if (box.node_down || box.phase != TaskPhase::kRunning)
    return PhaseColour(box.phase, box.node_down);
  if (box.backpressured) return QColor(0x54, 0x5b, 0x64);
  // Idle (0x5d, 0xb1, 0xff) to busy (0xef, 0x53, 0x50).
  const double b = std::clamp(box.busy, 0.0, 1.0);
  const auto mix = [b](int idle, int busy) {
    return static_cast<int>(std::lround(idle + (busy - idle) * b));
  };
  return QColor(mix(0x5d, 0xef), mix(0xb1, 0x53), mix(0xff, 0x50));
}

}  // namespace

void DataflowView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), palette().base());
  p.setPen(palette().text().color());
  for (const auto& [name, rect] : columns_) {
    p.drawText(rect, Qt::AlignCenter, name);
  }
  // The channels; a blocked one (its input waits for the other barriers) ends in a bar of its
  // checkpoint's colour.
  QPen edge_pen(QColor(0xb0, 0xbe, 0xc5));
  edge_pen.setWidthF(0.8);
  p.setPen(edge_pen);
  std::vector<QLineF> lines;
  lines.reserve(edges_.size());
  for (const Edge& edge : edges_) lines.emplace_back(edge.start, edge.end);
  p.drawLines(lines.data(), static_cast<int>(lines.size()));
  for (const Edge& edge : edges_) {
    if (!edge.blocked) continue;
    p.setPen(Qt::NoPen);
    p.setBrush(CheckpointColour(boxes_[edge.to].aligning));
    p.drawRect(QRectF(edge.end.x() - 13, edge.end.y() - 5, 4, 10));
    p.setBrush(QColor(0xc6, 0x28, 0x28));
    p.drawRect(QRectF(edge.end.x() - 8, edge.end.y() - 5, 4, 10));
  }
  // What is in flight, a drawRects call per colour.
  p.setRenderHint(QPainter::Antialiasing, false);
  p.setPen(Qt::NoPen);
  marks_.fill_calls = 0;
  for (const auto& [rgba, rects] : item_rects_) {
    p.setBrush(QColor::fromRgba(rgba));
    p.drawRects(rects.data(), static_cast<int>(rects.size()));
    ++marks_.fill_calls;
  }
  p.setRenderHint(QPainter::Antialiasing);
  for (const auto& [rgba, diamonds] : item_diamonds_) {
    p.setPen(QPen(Qt::black, 0.8));
    p.setBrush(QColor::fromRgba(rgba));
    for (const QPolygonF& d : diamonds) p.drawPolygon(d);
  }
  for (const TaskBox& box : boxes_) {
    if (box.name == selected_) {
      p.setPen(QPen(QColor(0x0d, 0x47, 0xa1), 3.0));
    } else {
      p.setPen(QPen(QColor(0x37, 0x47, 0x4f), box.phase == TaskPhase::kAligning ? 2.0 : 1.0));
    }
    const QColor fill = BoxColour(box);
    p.setBrush(fill);
    p.drawRoundedRect(box.rect, 6, 6);
    QString text =
        box.name + "\n" +
        (box.backpressured && box.phase == TaskPhase::kRunning
             ? QString("back-pressured")
             : QString::fromUtf8(TaskPhaseName(box.phase).data(),
                                 static_cast<qsizetype>(TaskPhaseName(box.phase).size())));
    if (box.node_down) text += " (node " + QString::number(box.node) + " down)";
    if (box.aligning != 0) {
      text += " cp " + QString::number(box.aligning) + ", " + QString::number(box.barrier_inputs) +
              " in";
      // The barrier: a bar of its checkpoint's colour at the box's input side.
      p.setPen(Qt::NoPen);
      p.setBrush(CheckpointColour(box.aligning));
      p.drawRect(QRectF(box.rect.left() - 4, box.rect.top() + 2, 4, box.rect.height() - 4));
    }
    if (box.state_entries > 0) {
      text += "\n" + QString::number(box.state_entries) + " keys, " + Size(box.state_bytes);
    } else if (box.state_bytes > 0) {
      text += "\nsnapshot " + Size(box.state_bytes);
    }
    p.setPen(fill.lightness() < 115 ? QColor(Qt::white) : palette().text().color());
    p.drawText(box.rect.adjusted(4, 1, -4, -1), Qt::AlignCenter | Qt::TextWordWrap, text);
  }
  // The legend, with what is in flight now.
  p.setPen(palette().text().color());
  const QString legend =
      QString(
          "in flight: %1 records in %2 buffers (%3 on the wire)   "
          "\u25a0 records  \u258e barrier  \u25c6 unaligned barrier  "
          "\u258c\u258c blocked input")
          .arg(marks_.records)
          .arg(marks_.records_buffers + marks_.barriers + marks_.unaligned_barriers + marks_.other)
          .arg(marks_.on_wire);
  p.drawText(QRectF(8, height() - 22, width() - 16, 20), Qt::AlignLeft | Qt::AlignVCenter, legend);
}

}  // namespace faultline::gui
