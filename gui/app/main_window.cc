#include "gui/app/main_window.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListView>
#include <QMessageBox>
#include <QSlider>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <QToolBar>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <cmath>

#include "gui/app/checkpoint_model.h"
#include "gui/app/dataflow_view.h"
#include "gui/app/space_time_view.h"
#include "scenarios/loader.h"

namespace faultline::gui {
namespace {

constexpr int kTickMillis = 16;

QString Q(std::string_view text) {
  return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size()));
}

QString Seconds(Time t) {
  return QString::number(static_cast<double>(t.nanos()) / 1e9, 'f', 6) + " s";
}

int MillisOf(Time t) {
  return static_cast<int>(t.nanos() / 1'000'000);
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  BuildUi();
}

MainWindow::~MainWindow() = default;

void MainWindow::BuildUi() {
  setWindowTitle("faultline-gui");
  resize(1280, 800);
  QToolBar* bar = addToolBar("Run");
  bar->setObjectName("transport");
  QAction* open = bar->addAction("Open…", this, &MainWindow::OpenDialog);
  open->setShortcut(QKeySequence::Open);
  play_ = bar->addAction("Play", this, [this] { playing() ? Pause() : Play(); });
  play_->setShortcut(Qt::Key_Space);
  bar->addAction("Step", this, &MainWindow::StepRecord)->setShortcut(Qt::Key_Period);
  bar->addAction("Next barrier", this, [this] { NextBarrier(); })->setShortcut(Qt::Key_B);
  bar->addAction("Next checkpoint", this, [this] { NextCheckpointEnd(); })->setShortcut(Qt::Key_C);
  bar->addAction("Next fault", this, [this] { NextFault(); })->setShortcut(Qt::Key_F);
  bar->addAction("Copy reproducer", this, &MainWindow::CopyReproducer);
  bar->addSeparator();
  bar->addWidget(new QLabel(" speed ", bar));
  speed_ = new QSlider(Qt::Horizontal, bar);
  speed_->setObjectName("speed");
  speed_->setRange(-30, 20);  // 10^(v/10) simulated seconds per second: 0.001x .. 100x
  speed_->setValue(0);
  speed_->setMaximumWidth(160);
  speed_->setToolTip("simulated seconds per second, on a log scale");
  bar->addWidget(speed_);

  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  auto* scrub_row = new QHBoxLayout();
  scrubber_ = new QSlider(Qt::Horizontal, central);
  scrubber_->setObjectName("scrubber");
  clock_ = new QLabel("0.000000 s", central);
  clock_->setMinimumWidth(140);
  scrub_row->addWidget(scrubber_, 1);
  scrub_row->addWidget(clock_);
  layout->addLayout(scrub_row);
  connect(scrubber_, &QSlider::sliderMoved, this,
          [this](int ms) { SeekTime(Time::Zero() + Duration::Millis(ms)); });

  auto* split = new QSplitter(Qt::Vertical, central);
  dataflow_ = new DataflowView(split);
  split->addWidget(dataflow_);
  auto* tabs = new QTabWidget(split);
  tabs_ = tabs;
  checkpoints_ = new CheckpointModel(this);
  auto* history = new QSplitter(Qt::Horizontal, tabs);
  history_ = new QTableView(history);
  history_->setModel(checkpoints_);
  history_->setSelectionBehavior(QAbstractItemView::SelectRows);
  history_->setSelectionMode(QAbstractItemView::SingleSelection);
  history_->horizontalHeader()->setStretchLastSection(true);
  history_->verticalHeader()->hide();
  connect(history_, &QTableView::clicked, this, [this](const QModelIndex& index) {
    if (index.isValid()) ShowCheckpoint(checkpoints_->RowAt(index.row()).id);
  });
  subtasks_ = new QTableWidget(0, 6, history);
  subtasks_->setHorizontalHeaderLabels(
      {"Subtask", "First barrier", "Alignment", "Snapshot", "Acknowledged", "Size"});
  subtasks_->verticalHeader()->hide();
  subtasks_->horizontalHeader()->setStretchLastSection(true);
  history->addWidget(history_);
  history->addWidget(subtasks_);
  tabs->addTab(history, "Checkpoints");
  space_time_ = new SpaceTimeView(tabs);
  tabs->addTab(space_time_, "Space-time");
  moments_ = new QStringListModel(this);
  auto* list = new QListView(tabs);
  list->setModel(moments_);
  tabs->addTab(list, "Moments");
  verdicts_ = new QTreeWidget(tabs);
  verdicts_->setHeaderLabels({"Checker", "Verdict"});
  tabs->addTab(verdicts_, "Verdicts");
  split->addWidget(tabs);
  layout->addWidget(split, 1);
  setCentralWidget(central);

  player_ = new QTimer(this);
  player_->setInterval(kTickMillis);
  connect(player_, &QTimer::timeout, this, &MainWindow::Advance);
}

Status MainWindow::Open(const QString& path, std::optional<uint64_t> seed) {
  Pause();
  Result<scenarios::Scenario> scenario = scenarios::LoadScenarioFile(path.toStdString());
  if (!scenario.ok()) return scenario.status();
  scenarios::RunOptions options;
  options.seed = seed;
  Result<Recording> recorded = RecordRun(*scenario, options);
  if (!recorded.ok()) return recorded.status();
  timeline_.reset();
  recording_ = std::make_unique<Recording>(std::move(*recorded));
  timeline_ = std::make_unique<Timeline>(*recording_);
  dataflow_->SetRecording(recording_.get());
  space_time_model_ = std::make_unique<SpaceTime>(BuildSpaceTime(*recording_));
  space_time_->SetModel(space_time_model_.get());
  shown_checkpoint_ = 0;
  scrubber_->setRange(0, MillisOf(timeline_->end()));
  verdicts_->clear();
  for (const checkers::Verdict& v : recording_->report.verdicts) {
    const char* outcome = v.violated() ? "VIOLATION" : v.judged() ? "PASS" : "INCONCLUSIVE";
    auto* item = new QTreeWidgetItem(verdicts_, {Q(v.rule()), outcome});
    if (v.first()) new QTreeWidgetItem(item, {"violation", Q(checkers::ToString(*v.first()))});
    for (const checkers::UnjudgedPart& part : v.unjudged()) {
      new QTreeWidgetItem(item, {Q(checkers::UnjudgedName(part.reason)), Q(part.detail)});
    }
    for (const std::string& note : v.notes()) new QTreeWidgetItem(item, {"note", Q(note)});
  }
  verdicts_->resizeColumnToContents(0);
  setWindowTitle("faultline-gui — " + Q(recording_->report.name) + " seed " +
                 QString::number(recording_->report.seed));
  statusBar()->showMessage(Q(std::string(scenarios::OutcomeName(recording_->report.outcome))) +
                           "  " + Q(recording_->report.reproduce));
  moments_shown_ = 0;
  moments_->setStringList({});
  timeline_->SeekRecord(0);
  Refresh();
  return Status::Ok();
}

QString MainWindow::Reproducer() const {
  return recording_ == nullptr ? QString() : Q(recording_->report.reproduce);
}

bool MainWindow::playing() const {
  return player_->isActive();
}

double MainWindow::speed() const {
  return std::pow(10.0, speed_->value() / 10.0);
}

void MainWindow::Play() {
  if (timeline_ == nullptr) return;
  player_->start();
  play_->setText("Pause");
}

void MainWindow::Pause() {
  player_->stop();
  play_->setText("Play");
}

void MainWindow::Advance() {
  if (timeline_ == nullptr || timeline_->state().applied >= timeline_->size()) {
    Pause();
    return;
  }
  const auto step = static_cast<int64_t>(speed() * kTickMillis * 1e6);
  timeline_->SeekTime(timeline_->state().now + Duration::Nanos(std::max<int64_t>(1, step)));
  Refresh();
}

void MainWindow::StepRecord() {
  if (timeline_ == nullptr) return;
  timeline_->Step();
  Refresh();
}

bool MainWindow::NextBarrier() {
  if (timeline_ == nullptr || !timeline_->StepUntil(IsBarrierEvent)) return false;
  Refresh();
  return true;
}

bool MainWindow::NextCheckpointEnd() {
  if (timeline_ == nullptr || !timeline_->StepUntil(IsCheckpointEnd)) return false;
  Refresh();
  return true;
}

bool MainWindow::NextFault() {
  if (timeline_ == nullptr || !timeline_->StepUntil(IsFault)) return false;
  Refresh();
  return true;
}

void MainWindow::SeekTime(Time t) {
  if (timeline_ == nullptr) return;
  timeline_->SeekTime(t);
  Refresh();
}

void MainWindow::CopyReproducer() {
  if (recording_ == nullptr) return;
  QApplication::clipboard()->setText(Reproducer());
  statusBar()->showMessage("copied: " + Reproducer(), 5000);
}

void MainWindow::OpenDialog() {
  const QString path = QFileDialog::getOpenFileName(this, "Open a scenario", QString(),
                                                    "Scenarios (*.textproto);;All files (*)");
  if (path.isEmpty()) return;
  if (Status s = Open(path, std::nullopt); !s.ok()) {
    QMessageBox::warning(this, "faultline-gui", Q(s.ToString()));
  }
}

bool MainWindow::ShowTab(const QString& title) {
  for (int i = 0; i < tabs_->count(); ++i) {
    if (tabs_->tabText(i).compare(title, Qt::CaseInsensitive) == 0) {
      tabs_->setCurrentIndex(i);
      return true;
    }
  }
  return false;
}

void MainWindow::ShowCheckpoint(int64_t id) {
  shown_checkpoint_ = id;
  subtasks_->setRowCount(0);
  if (timeline_ == nullptr) return;
  auto row = timeline_->state().checkpoints.find(id);
  if (row == timeline_->state().checkpoints.end()) return;
  const CheckpointRow& c = row->second;
  const auto after_trigger = [&c](Time t) {
    return t == Time::Zero() ? QString("-")
                             : QString::number((t - c.triggered).millis(), 'f', 2) + " ms";
  };
  subtasks_->setRowCount(static_cast<int>(c.subtasks.size()));
  int r = 0;
  for (const auto& [name, sub] : c.subtasks) {
    const QString alignment =
        sub.aligned == Time::Zero() || sub.barrier == Time::Zero()
            ? QString("-")
            : QString::number((sub.aligned - sub.barrier).millis(), 'f', 2) + " ms";
    const QStringList cells = {Q(name),
                               after_trigger(sub.barrier),
                               alignment,
                               after_trigger(sub.captured),
                               after_trigger(sub.acknowledged),
                               QString::number(sub.bytes) + " B"};
    for (int col = 0; col < cells.size(); ++col) {
      subtasks_->setItem(r, col, new QTableWidgetItem(cells[col]));
    }
    ++r;
  }
}

void MainWindow::Refresh() {
  const RunState& state = timeline_->state();
  dataflow_->SetState(state);
  checkpoints_->SetState(state);
  space_time_->SetNow(state.now);
  ShowCheckpoint(shown_checkpoint_);
  // The moments up to now, appended while moving forward, rebuilt after a move back.
  const std::vector<Moment>& all = timeline_->moments();
  size_t shown = 0;
  while (shown < all.size() && all[shown].record < state.applied) ++shown;
  if (shown != moments_shown_) {
    QStringList lines;
    for (size_t i = 0; i < shown; ++i) lines << Seconds(all[i].at) + "  " + Q(all[i].text);
    moments_->setStringList(lines);
    moments_shown_ = shown;
  }
  const QSignalBlocker block(scrubber_);
  scrubber_->setValue(MillisOf(state.now));
  clock_->setText(Seconds(state.now) + "  " + Q(state.job_status));
}

}  // namespace faultline::gui
