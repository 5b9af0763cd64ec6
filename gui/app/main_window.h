// faultline-gui's main window: open a scenario with a seed, run it in-process, then move through
// the run: play and pause (simulated time at a speed on a log scale), step one record, step to the
// next barrier, checkpoint end or fault, scrub anywhere (time travel through the timeline's
// keyframes). Views: the dataflow canvas, the checkpoint history, the moments so far (faults,
// recoveries, checkpoint ends) and the checkers' verdicts; "Copy reproducer" gives the command
// that replays the run. A fault taken at the current moment from the canvas's context menu, or a
// teaching switch toggled, starts a new branch (gui/core/session.h); the branch list returns to
// any earlier one.
#pragma once

#include <QMainWindow>
#include <QString>
#include <QStringListModel>
#include <memory>

#include "base/status.h"
#include "gui/core/compare.h"
#include "gui/core/inspect.h"
#include "gui/core/lessons.h"
#include "gui/core/recording.h"
#include "gui/core/session.h"
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
class QComboBox;
class QMenu;
class QDockWidget;
class QLineEdit;
class QPushButton;

namespace faultline::gui {

class CheckpointModel;
class DataflowView;
class Scrubber;
class SpaceTimeView;

class MainWindow final : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Runs `path` at `seed` (unset: the scenario's own) and shows it from time zero.
  Status Open(const QString& path, std::optional<uint64_t> seed);

  // What the views show (tests assert on these): the current branch's run.
  const Session* session() const { return session_.get(); }
  int current_branch() const { return current_; }
  const Recording* recording() const;
  const Timeline* timeline() const;
  CheckpointModel* checkpoints() const { return checkpoints_; }
  QStringListModel* moments() const { return moments_; }
  DataflowView* dataflow() const { return dataflow_; }
  QTreeWidget* verdicts() const { return verdicts_; }
  SpaceTimeView* space_time() const { return space_time_; }
  QLineEdit* lane_filter() const { return lane_filter_; }
  // The per-subtask drill-down of the checkpoint selected in the history (Flink's "checkpoint
  // details"): a row per subtask with its barrier, alignment, snapshot and acknowledgement.
  QTableWidget* subtasks() const { return subtasks_; }
  Scrubber* scrubber() const { return scrubber_; }
  // Where the current branch's violations show (one per violated checker).
  const std::vector<Moment>& violations() const { return violations_; }
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
  // To the next violation's moment after now; false when there is none.
  bool NextViolation();
  // To violation `index`'s moment (what selecting it in the verdicts does); false when none.
  bool JumpToViolation(size_t index);
  void CopyReproducer();
  void OpenDialog();

 public:
  void SeekTime(faultline::Time t);
  // Fills the drill-down with checkpoint `id` as of now (nothing when it has not started).
  void ShowCheckpoint(int64_t id);
  // Branches at the current moment of the current branch with `fault` (gui/core/session.h) and
  // shows the new branch just before the fault strikes.
  Status BranchHere(scenarios::proto::Fault fault, const QString& label);
  // A new branch from time zero with teaching switch `name` on or off, shown at the moment.
  Status ToggleSwitch(const QString& name, bool on);
  // A new branch from time zero with the checkpoint mode `mode`, shown at the moment.
  Status ChangeMode(scenarios::proto::Checkpointing::Mode mode);
  // Shows branch `id` at the current moment.
  void SwitchBranch(int id);
  // Lessons (gui/core/lessons.h): opens lesson `id`'s scenario at time zero with its first
  // narration in the lesson panel.
  Status StartLesson(const QString& id);
  // Plays the run on to the next step's event and shows its narration; false at the end of the
  // lesson, or when the event does not occur (the panel says so).
  bool NextLessonStep();
  void EndLesson();
  const Lesson* lesson() const { return lesson_; }
  size_t lesson_step() const { return lesson_step_; }
  QString narration() const;
  // The checkers on the run so far (the Verdicts tab's "Check the run so far"): this branch run
  // again up to the current moment and judged as a run that ended there.
  Status CheckSoFar();
  QTreeWidget* prefix_verdicts() const { return prefix_verdicts_; }
  const scenarios::RunReport* prefix_report() const { return prefix_report_.get(); }
  // Compare (the "Compare" tab): the current branch against branch `id`, or against the same
  // scenario run at another seed. The tab shows where the runs part and, at every moment, how
  // their states differ.
  Status CompareWithBranch(int id);
  Status CompareWithSeed(uint64_t seed);
  void StopComparing();
  bool comparing() const { return other_ != nullptr; }
  const std::optional<Divergence>& divergence() const { return divergence_; }
  QTableWidget* differences() const { return differences_; }
  // To the record where the runs part; false when they do not (or nothing is compared).
  bool GoToDivergence();
  // The inspector (its tab): task `name`'s identity, key groups, state size, and per channel
  // what is queued and on the wire, barriers seen and blocked inputs, kept up to date as the
  // run moves. A left click on a box does this.
  void InspectTask(const QString& name);
  QTreeWidget* inspector() const { return inspector_; }
  const TaskInspection& inspection() const { return inspection_; }
  // Brings the tab titled `title` ("Checkpoints", "Space-time", "Moments", "Verdicts") to the
  // front; false when there is none.
  bool ShowTab(const QString& title);

 private:
  void BuildUi();
  Timeline* mutable_timeline();
  // Shows branch `id` at `at` (unset: before its first record).
  void ShowBranch(int id, std::optional<Time> at);
  void TaskMenu(const QString& task, uint32_t node, const QPoint& global);
  void ChannelMenu(const QString& from, uint32_t from_node, const QString& to, uint32_t to_node,
                   const QPoint& global);
  void Advance();  // one playback tick
  void Refresh();  // every view from the timeline's state

  std::unique_ptr<Session> session_;
  int current_ = 0;
  std::unique_ptr<SpaceTime> space_time_model_;
  int64_t shown_checkpoint_ = 0;
  CheckpointModel* checkpoints_ = nullptr;
  QStringListModel* moments_ = nullptr;
  DataflowView* dataflow_ = nullptr;
  QTreeWidget* verdicts_ = nullptr;
  SpaceTimeView* space_time_ = nullptr;
  QLineEdit* lane_filter_ = nullptr;
  QTableWidget* subtasks_ = nullptr;
  QTableView* history_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  QComboBox* branches_ = nullptr;
  QMenu* switches_menu_ = nullptr;
  QMenu* mode_menu_ = nullptr;
  Scrubber* scrubber_ = nullptr;
  std::vector<Moment> violations_;  // the current branch's (ViolationMoments)
  QSlider* speed_ = nullptr;
  QLabel* clock_ = nullptr;
  QTimer* player_ = nullptr;
  QAction* play_ = nullptr;
  size_t moments_shown_ = 0;
  void StartComparing(const Recording* other, QString what);
  void RefreshComparison();
  void RefreshInspector();
  QString inspected_;
  TaskInspection inspection_;
  QTreeWidget* inspector_ = nullptr;
  QTreeWidget* prefix_verdicts_ = nullptr;
  std::unique_ptr<scenarios::RunReport> prefix_report_;
  std::unique_ptr<Session> other_session_;  // a seed compared with
  const Recording* other_ = nullptr;
  std::unique_ptr<Timeline> other_timeline_;
  std::optional<Divergence> divergence_;
  QString compared_;
  QLabel* compare_summary_ = nullptr;
  QTableWidget* differences_ = nullptr;
  QComboBox* compare_with_ = nullptr;
  void ShowLessonStep();
  const Lesson* lesson_ = nullptr;
  size_t lesson_step_ = 0;
  QDockWidget* lesson_dock_ = nullptr;
  QLabel* lesson_title_ = nullptr;
  QLabel* lesson_text_ = nullptr;
  QLabel* lesson_progress_ = nullptr;
  QPushButton* lesson_next_ = nullptr;
};

}  // namespace faultline::gui
