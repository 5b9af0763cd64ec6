// faultline-gui's main window: open a scenario with a seed, run it in-process, then move through
// the run: play and pause (simulated time at a speed on a log scale), step one record, step to the
// next barrier, checkpoint end or fault, scrub anywhere (time travel through the timeline's
// keyframes). Views: the dataflow canvas, the checkpoint history, the moments so far (faults,
// recoveries, checkpoint ends) and the checkers' verdicts; "Copy reproducer" gives the command
// that replays the run.
#pragma once

#include <QMainWindow>
#include <QString>
#include <QStringListModel>
#include <memory>

#include "base/status.h"
#include "gui/core/recording.h"
#include "gui/core/space_time.h"
#include "gui/core/timeline.h"

class QLabel;
class QSlider;
class QTimer;
class QTreeWidget;
class QTableWidget;
class QTableView;
class QTabWidget;
class QAction;

namespace faultline::gui {

class CheckpointModel;
class DataflowView;
class SpaceTimeView;

class MainWindow final : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Runs `path` at `seed` (unset: the scenario's own) and shows it from time zero.
  Status Open(const QString& path, std::optional<uint64_t> seed);

  // What the views show (tests assert on these).
  const Recording* recording() const { return recording_.get(); }
  const Timeline* timeline() const { return timeline_.get(); }
  CheckpointModel* checkpoints() const { return checkpoints_; }
  QStringListModel* moments() const { return moments_; }
  DataflowView* dataflow() const { return dataflow_; }
  QTreeWidget* verdicts() const { return verdicts_; }
  SpaceTimeView* space_time() const { return space_time_; }
  // The per-subtask drill-down of the checkpoint selected in the history (Flink's "checkpoint
  // details"): a row per subtask with its barrier, alignment, snapshot and acknowledgement.
  QTableWidget* subtasks() const { return subtasks_; }
  QString Reproducer() const;
  bool playing() const;
  // Simulated seconds per wall second while playing.
  double speed() const;

 public slots:
  void Play();
  void Pause();
  void StepRecord();
  bool NextBarrier();
  bool NextCheckpointEnd();
  bool NextFault();
  void SeekTime(faultline::Time t);
  void CopyReproducer();
  void OpenDialog();
  // Fills the drill-down with checkpoint `id` as of now (nothing when it has not started).
  void ShowCheckpoint(int64_t id);
  // Brings the tab titled `title` ("Checkpoints", "Space-time", "Moments", "Verdicts") to the
  // front; false when there is none.
  bool ShowTab(const QString& title);

 private:
  void BuildUi();
  void Advance();  // one playback tick
  void Refresh();  // every view from the timeline's state

  std::unique_ptr<Recording> recording_;
  std::unique_ptr<Timeline> timeline_;
  std::unique_ptr<SpaceTime> space_time_model_;
  int64_t shown_checkpoint_ = 0;
  CheckpointModel* checkpoints_ = nullptr;
  QStringListModel* moments_ = nullptr;
  DataflowView* dataflow_ = nullptr;
  QTreeWidget* verdicts_ = nullptr;
  SpaceTimeView* space_time_ = nullptr;
  QTableWidget* subtasks_ = nullptr;
  QTableView* history_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  QSlider* scrubber_ = nullptr;
  QSlider* speed_ = nullptr;
  QLabel* clock_ = nullptr;
  QTimer* player_ = nullptr;
  QAction* play_ = nullptr;
  size_t moments_shown_ = 0;
};

}  // namespace faultline::gui
