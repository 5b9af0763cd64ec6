#include "gui/app/checkpoint_model.h"

#include <QBrush>
#include <QColor>
#include <QString>

namespace faultline::gui {
namespace {

QString Millis(Duration d) {
  return QString::number(static_cast<double>(d.nanos()) / 1e6, 'f', 1) + " ms";
}

QString Seconds(Time t) {
  return QString::number(static_cast<double>(t.nanos()) / 1e9, 'f', 3) + " s";
}

QString Size(int64_t bytes) {
  if (bytes < 1024) return QString::number(bytes) + " B";
  return QString::number(static_cast<double>(bytes) / 1024.0, 'f', 1) + " KiB";
}

}  // namespace

void CheckpointModel::SetState(const RunState& state) {
  beginResetModel();
  rows_.clear();
  for (const auto& [id, row] : state.checkpoints) rows_.push_back(row);
  now_ = state.now;
  endResetModel();
}

int CheckpointModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int CheckpointModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumns;
}

QVariant CheckpointModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const CheckpointRow& row = rows_[static_cast<size_t>(index.row())];
  if (role == Qt::ForegroundRole && index.column() == kStatus) {
    switch (row.status) {
      case CheckpointRow::Status::kCompleted:
        return QBrush(QColor(0x2e, 0x7d, 0x32));
      case CheckpointRow::Status::kAborted:
      case CheckpointRow::Status::kFailed:
        return QBrush(QColor(0xc6, 0x28, 0x28));
      case CheckpointRow::Status::kInProgress:
        return QBrush(QColor(0x15, 0x65, 0xc0));
    }
  }
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case kId:
      return QString::number(row.id);
    case kKind:
      if (row.savepoint) return row.stop ? QString("stop-with-savepoint") : QString("savepoint");
      return row.final ? QString("final checkpoint") : QString("checkpoint");
    case kStatus:
      return QString::fromUtf8(CheckpointStatusName(row.status).data(),
                               static_cast<qsizetype>(CheckpointStatusName(row.status).size()));
    case kAcknowledged:
      return QString::number(row.acknowledged) + "/" + QString::number(row.expected);
    case kTriggered:
      return Seconds(row.triggered);
    case kDuration:
      return Millis((row.status == CheckpointRow::Status::kInProgress ? now_ : row.ended) -
                    row.triggered);
    case kSize:
      return Size(row.bytes);
    case kWhy:
      return QString::fromStdString(row.why);
    default:
      return {};
  }
}

QVariant CheckpointModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* const kNames[kColumns] = {"ID",        "Kind",       "Status", "Acknowledged",
                                               "Triggered", "End to end", "Size",   "Why"};
  return section >= 0 && section < kColumns ? QString(kNames[section]) : QVariant();
}

}  // namespace faultline::gui
