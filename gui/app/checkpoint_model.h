// The checkpoint history table (Flink's web UI "History" tab): a row per checkpoint or
// savepoint of the run so far, with its status, acknowledgements, trigger time, end-to-end
// duration and size. Rebuilt from the timeline's state at each move.
#pragma once

#include <QAbstractTableModel>
#include <vector>

#include "gui/core/timeline.h"

namespace faultline::gui {

class CheckpointModel final : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kId, kKind, kStatus, kAcknowledged, kTriggered, kDuration, kSize, kWhy, kColumns };

  explicit CheckpointModel(QObject* parent = nullptr) : QAbstractTableModel(parent) {}

  void SetState(const RunState& state);
  const CheckpointRow& RowAt(int row) const { return rows_.at(static_cast<size_t>(row)); }

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  int columnCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<CheckpointRow> rows_;
  Time now_;
};

}  // namespace faultline::gui
