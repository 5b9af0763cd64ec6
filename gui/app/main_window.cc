#include "gui/app/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
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

#include "engine/exec/config.h"
#include "gui/app/checkpoint_model.h"
#include "gui/app/dataflow_view.h"
#include "gui/app/scrubber.h"
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

// A checker's verdict as a tree row, its violation (the first child, when there is one),
// unjudged parts and notes as children.
QTreeWidgetItem* AddVerdict(QTreeWidget* tree, const checkers::Verdict& v) {
  const char* outcome = v.violated() ? "VIOLATION" : v.judged() ? "PASS" : "INCONCLUSIVE";
  auto* item = new QTreeWidgetItem(tree, {Q(v.rule()), outcome});
  if (v.first()) new QTreeWidgetItem(item, {"violation", Q(checkers::ToString(*v.first()))});
  for (const checkers::UnjudgedPart& part : v.unjudged()) {
    new QTreeWidgetItem(item, {Q(checkers::UnjudgedName(part.reason)), Q(part.detail)});
  }
  for (const std::string& note : v.notes()) new QTreeWidgetItem(item, {"note", Q(note)});
  return item;
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
  bar->addAction("Next violation", this, [this] { NextViolation(); })->setShortcut(Qt::Key_V);
  bar->addAction("Copy reproducer", this, &MainWindow::CopyReproducer);
  bar->addSeparator();
  bar->addWidget(new QLabel(" branch ", bar));
  branches_ = new QComboBox(bar);
  branches_->setObjectName("branches");
  branches_->setMinimumContentsLength(28);
  bar->addWidget(branches_);
  connect(branches_, &QComboBox::activated, this, [this](int index) { SwitchBranch(index); });
  // The checkpoint mode: a branch from time zero in another mode (what changes under the same
  // faults).
  mode_menu_ = menuBar()->addMenu("Checkpoint mode");
  auto* modes = new QActionGroup(mode_menu_);
  for (const auto& [mode, text] :
       {std::pair{scenarios::proto::Checkpointing::ALIGNED, "Aligned (exactly once)"},
        std::pair{scenarios::proto::Checkpointing::UNALIGNED, "Unaligned (exactly once)"},
        std::pair{scenarios::proto::Checkpointing::AT_LEAST_ONCE, "At least once"}}) {
    QAction* action = mode_menu_->addAction(text);
    action->setCheckable(true);
    action->setData(static_cast<int>(mode));
    modes->addAction(action);
    connect(action, &QAction::triggered, this, [this, mode = mode] {
      if (Status s = ChangeMode(mode); !s.ok()) {
        QMessageBox::warning(this, "faultline-gui", Q(s.ToString()));
        if (session_ != nullptr) ShowBranch(current_, timeline()->state().now);
      }
    });
  }
  switches_menu_ = menuBar()->addMenu("Teaching switches");
  for (const engine::TeachingSwitchInfo& info : engine::kTeachingSwitches) {
    QAction* toggle = switches_menu_->addAction(Q(info.name));
    toggle->setCheckable(true);
    toggle->setToolTip(Q(info.mistake));
    connect(toggle, &QAction::triggered, this, [this, toggle](bool on) {
      if (Status s = ToggleSwitch(toggle->text(), on); !s.ok()) {
        QMessageBox::warning(this, "faultline-gui", Q(s.ToString()));
      }
    });
  }
  QMenu* lessons = menuBar()->addMenu("Lessons");
  for (const Lesson& lesson : Lessons()) {
    const QString id = Q(lesson.id);
    lessons->addAction(Q(lesson.title), this, [this, id] {
      if (Status s = StartLesson(id); !s.ok()) {
        QMessageBox::warning(this, "faultline-gui", Q(s.ToString()));
      }
    });
  }
  lesson_dock_ = new QDockWidget("Lesson", this);
  lesson_dock_->setObjectName("lesson");
  {
    auto* panel = new QWidget(lesson_dock_);
    auto* column = new QVBoxLayout(panel);
    lesson_title_ = new QLabel(panel);
    lesson_title_->setWordWrap(true);
    QFont bold = lesson_title_->font();
    bold.setBold(true);
    lesson_title_->setFont(bold);
    lesson_text_ = new QLabel(panel);
    lesson_text_->setWordWrap(true);
    lesson_text_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    lesson_progress_ = new QLabel(panel);
    auto* buttons = new QHBoxLayout();
    lesson_next_ = new QPushButton("Next", panel);
    lesson_next_->setShortcut(Qt::Key_N);
    auto* restart = new QPushButton("Restart", panel);
    auto* end = new QPushButton("End lesson", panel);
    buttons->addWidget(lesson_next_);
    buttons->addWidget(restart);
    buttons->addWidget(end);
    column->addWidget(lesson_title_);
    column->addWidget(lesson_text_, 1);
    column->addWidget(lesson_progress_);
    column->addLayout(buttons);
    lesson_dock_->setWidget(panel);
    lesson_dock_->setMinimumWidth(300);
    connect(lesson_next_, &QPushButton::clicked, this, [this] { NextLessonStep(); });
    connect(restart, &QPushButton::clicked, this, [this] {
      if (lesson_ != nullptr) (void)StartLesson(Q(lesson_->id));
    });
    connect(end, &QPushButton::clicked, this, &MainWindow::EndLesson);
  }
  addDockWidget(Qt::RightDockWidgetArea, lesson_dock_);
  lesson_dock_->hide();
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
  scrubber_ = new Scrubber(central);
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
  connect(dataflow_, &DataflowView::TaskMenuRequested, this, &MainWindow::TaskMenu);
  connect(dataflow_, &DataflowView::ChannelMenuRequested, this, &MainWindow::ChannelMenu);
  connect(dataflow_, &DataflowView::TaskSelected, this, &MainWindow::InspectTask);
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
  {
    auto* page = new QWidget(tabs);
    auto* column = new QVBoxLayout(page);
    column->setContentsMargins(0, 0, 0, 0);
    lane_filter_ = new QLineEdit(page);
    lane_filter_->setObjectName("lane-filter");
    lane_filter_->setPlaceholderText(
        "filter lanes by task name (e.g. sum); right-click a lane to hide it");
    lane_filter_->setClearButtonEnabled(true);
    space_time_ = new SpaceTimeView(page);
    connect(lane_filter_, &QLineEdit::textChanged, space_time_, &SpaceTimeView::SetLaneFilter);
    column->addWidget(lane_filter_);
    column->addWidget(space_time_, 1);
    tabs->addTab(page, "Space-time");
  }
  moments_ = new QStringListModel(this);
  auto* list = new QListView(tabs);
  list->setModel(moments_);
  tabs->addTab(list, "Moments");
  {
    auto* page = new QWidget(tabs);
    auto* column = new QVBoxLayout(page);
    auto* row = new QHBoxLayout();
    row->addWidget(new QLabel("Compare with", page));
    compare_with_ = new QComboBox(page);
    compare_with_->setObjectName("compare-with");
    compare_with_->setMinimumContentsLength(24);
    row->addWidget(compare_with_);
    auto* compare_branch = new QPushButton("Compare", page);
    row->addWidget(compare_branch);
    row->addSpacing(16);
    row->addWidget(new QLabel("or seed", page));
    auto* seed = new QLineEdit(page);
    seed->setObjectName("compare-seed");
    seed->setMaximumWidth(120);
    row->addWidget(seed);
    auto* compare_seed = new QPushButton("Run and compare", page);
    row->addWidget(compare_seed);
    auto* go = new QPushButton("Go to where they part", page);
    row->addWidget(go);
    auto* stop = new QPushButton("Stop comparing", page);
    row->addWidget(stop);
    row->addStretch(1);
    compare_summary_ =
        new QLabel("Compare this run with another branch, or with another seed.", page);
    compare_summary_->setWordWrap(true);
    compare_summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    differences_ = new QTableWidget(0, 3, page);
    differences_->setHorizontalHeaderLabels({"At this moment", "Here", "There"});
    differences_->verticalHeader()->hide();
    differences_->horizontalHeader()->setStretchLastSection(true);
    column->addLayout(row);
    column->addWidget(compare_summary_);
    column->addWidget(differences_, 1);
    tabs->addTab(page, "Compare");
    const auto warn = [this](const Status& s) {
      if (!s.ok()) QMessageBox::warning(this, "faultline-gui", Q(s.ToString()));
    };
    connect(compare_branch, &QPushButton::clicked, this,
            [this, warn] { warn(CompareWithBranch(compare_with_->currentIndex())); });
    connect(compare_seed, &QPushButton::clicked, this, [this, seed, warn] {
      bool ok = false;
      const uint64_t n = seed->text().toULongLong(&ok);
      warn(ok ? CompareWithSeed(n) : InvalidArgumentError("a seed is a number"));
    });
    connect(go, &QPushButton::clicked, this, [this] { GoToDivergence(); });
    connect(stop, &QPushButton::clicked, this, &MainWindow::StopComparing);
  }
  inspector_ = new QTreeWidget(tabs);
  inspector_->setObjectName("inspector");
  inspector_->setHeaderLabels({"Click a subtask on the canvas", ""});
  tabs->addTab(inspector_, "Inspector");
  auto* verdicts_page = new QSplitter(Qt::Horizontal, tabs);
  verdicts_ = new QTreeWidget(verdicts_page);
  verdicts_->setHeaderLabels({"Checker", "Verdict (the whole run)"});
  // Selecting a violation jumps to its moment.
  connect(verdicts_, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem* item, int) {
    const QVariant index = item->data(0, Qt::UserRole);
    if (index.isValid()) JumpToViolation(index.toULongLong());
  });
  {
    auto* so_far = new QWidget(verdicts_page);
    auto* column = new QVBoxLayout(so_far);
    column->setContentsMargins(0, 0, 0, 0);
    auto* check = new QPushButton("Check the run so far", so_far);
    check->setToolTip(
        "Run this branch again up to the current moment and judge it as a run that ended there");
    prefix_verdicts_ = new QTreeWidget(so_far);
    prefix_verdicts_->setHeaderLabels({"Checker", "Verdict so far"});
    column->addWidget(check);
    column->addWidget(prefix_verdicts_, 1);
    connect(check, &QPushButton::clicked, this, [this] {
      if (Status s = CheckSoFar(); !s.ok()) {
        QMessageBox::warning(this, "faultline-gui", Q(s.ToString()));
      }
    });
    verdicts_page->addWidget(verdicts_);
    verdicts_page->addWidget(so_far);
  }
  tabs->addTab(verdicts_page, "Verdicts");
  split->addWidget(tabs);
  layout->addWidget(split, 1);
  setCentralWidget(central);

  player_ = new QTimer(this);
  player_->setInterval(kTickMillis);
  connect(player_, &QTimer::timeout, this, &MainWindow::Advance);
}

Status MainWindow::Open(const QString& path, std::optional<uint64_t> seed) {
  Pause();
  StopComparing();
  EndLesson();  // another run: a lesson going on ends (StartLesson starts one after this)
  // A directory `faultline run --export` wrote (or its run.json): the exported run, replayed.
  const QFileInfo info(path);
  const bool exported = info.isDir() || info.fileName() == "run.json";
  if (exported && seed) {
    return InvalidArgumentError("an exported run replays its own seed; --seed does not apply");
  }
  Result<std::unique_ptr<Session>> session =
      exported ? Session::OpenExported((info.isDir() ? info.filePath() : info.path()).toStdString())
               : Session::Open(path.toStdString(), seed);
  if (!session.ok()) return session.status();
  session_ = std::move(*session);
  branches_->clear();
  compare_with_->clear();
  ShowBranch(0, std::nullopt);
  if (!session_->note().empty()) statusBar()->showMessage(Q(session_->note()));
  return Status::Ok();
}

const Recording* MainWindow::recording() const {
  return session_ == nullptr ? nullptr : session_->branch(current_).recording.get();
}

const Timeline* MainWindow::timeline() const {
  return session_ == nullptr ? nullptr : session_->branch(current_).timeline.get();
}

Timeline* MainWindow::mutable_timeline() {
  return session_ == nullptr ? nullptr : session_->branch(current_).timeline.get();
}

void MainWindow::ShowBranch(int id, std::optional<Time> at) {
  current_ = id;
  const Recording& rec = *recording();
  dataflow_->SetRecording(&rec);
  if (other_ != nullptr) divergence_ = FirstDivergence(rec, *other_);
  space_time_model_ = std::make_unique<SpaceTime>(BuildSpaceTime(rec));
  space_time_->SetModel(space_time_model_.get());
  shown_checkpoint_ = 0;
  scrubber_->setRange(0, MillisOf(timeline()->end()));
  violations_ = ViolationMoments(rec);
  {
    std::vector<Scrubber::Mark> marks;
    for (const Moment& m : timeline()->moments()) {
      if (m.kind == Moment::Kind::kJobEnd) continue;
      marks.push_back({MillisOf(m.at), m.kind, Seconds(m.at) + "  " + Q(m.text)});
    }
    for (const Moment& m : violations_) {
      marks.push_back({MillisOf(m.at), m.kind, Seconds(m.at) + "  " + Q(m.text)});
    }
    scrubber_->SetMarks(std::move(marks));
  }
  verdicts_->clear();
  size_t violation = 0;
  for (const checkers::Verdict& v : rec.report.verdicts) {
    QTreeWidgetItem* item = AddVerdict(verdicts_, v);
    if (v.violated() && v.first() && violation < violations_.size()) {
      item->setText(1,
                    "VIOLATION at " + Seconds(violations_[violation].at) + " (click to go there)");
      item->setData(0, Qt::UserRole, QVariant::fromValue<qulonglong>(violation));
      item->child(0)->setData(0, Qt::UserRole, QVariant::fromValue<qulonglong>(violation));
      ++violation;
    }
  }
  verdicts_->resizeColumnToContents(0);
  // The branch list: every branch, the current one selected.
  {
    const QSignalBlocker block(branches_);
    while (branches_->count() < session_->size()) {
      const Branch& b = session_->branch(branches_->count());
      QString text = QString::number(b.id) + ": " + Q(b.label);
      if (b.parent >= 0) {
        text += " (from " + QString::number(b.parent) + " at " + Seconds(b.at) + ")";
      }
      branches_->addItem(text);
    }
    branches_->setCurrentIndex(id);
    const QSignalBlocker block_compare(compare_with_);
    while (compare_with_->count() < session_->size()) {
      compare_with_->addItem(branches_->itemText(compare_with_->count()));
    }
  }
  for (QAction* mode : mode_menu_->actions()) {
    mode->setChecked(mode->data().toInt() == session_->branch(id).spec.checkpointing().mode());
  }
  for (QAction* toggle : switches_menu_->actions()) {
    const std::vector<std::string>& on = session_->branch(id).switches;
    toggle->setChecked(std::find(on.begin(), on.end(), toggle->text().toStdString()) != on.end());
  }
  setWindowTitle("faultline-gui — " + Q(rec.report.name) + " seed " +
                 QString::number(session_->seed()) + " — branch " + QString::number(id));
  statusBar()->showMessage(Q(std::string(scenarios::OutcomeName(rec.report.outcome))) + "  " +
                           Q(session_->ReproduceCommand(id)));
  moments_shown_ = static_cast<size_t>(-1);
  if (at) {
    mutable_timeline()->SeekTime(*at);
  } else {
    mutable_timeline()->SeekRecord(0);
  }
  Refresh();
}

void MainWindow::SwitchBranch(int id) {
  if (session_ == nullptr || id < 0 || id >= session_->size()) return;
  ShowBranch(id, timeline()->state().now);
}

Status MainWindow::BranchHere(scenarios::proto::Fault fault, const QString& label) {
  if (session_ == nullptr) return FailedPreconditionError("no run open");
  Pause();
  const Time at = timeline()->state().now;
  FL_ASSIGN_OR_RETURN(
      int id, session_->BranchWithFault(current_, at, std::move(fault),
                                        label.toStdString() + " at " + Seconds(at).toStdString()));
  // Just before the fault: the next step shows it strike.
  ShowBranch(id, at - Duration::Nanos(1));
  return Status::Ok();
}

Status MainWindow::ChangeMode(scenarios::proto::Checkpointing::Mode mode) {
  if (session_ == nullptr) return FailedPreconditionError("no run open");
  Pause();
  const Time at = timeline()->state().now;
  FL_ASSIGN_OR_RETURN(int id, session_->BranchWithMode(current_, mode));
  ShowBranch(id, at);
  return Status::Ok();
}

Status MainWindow::ToggleSwitch(const QString& name, bool on) {
  if (session_ == nullptr) return FailedPreconditionError("no run open");
  Pause();
  const Time at = timeline()->state().now;
  FL_ASSIGN_OR_RETURN(int id, session_->BranchWithSwitch(current_, name.toStdString(), on));
  ShowBranch(id, at);
  return Status::Ok();
}

void MainWindow::TaskMenu(const QString& task, uint32_t node, const QPoint& global) {
  if (session_ == nullptr) return;
  QMenu menu(this);
  const auto act = [this](const QString& text, scenarios::proto::Fault fault) {
    if (Status s = BranchHere(std::move(fault), text); !s.ok()) {
      QMessageBox::warning(this, "faultline-gui", Q(s.ToString()));
    }
  };
  const QString tm = "TaskManager " + QString::number(node);
  menu.addAction("Crash " + tm + " (restarts after 1 s)", this,
                 [=] { act("crash " + tm, CrashTaskManagerFault(node, Duration::Seconds(1))); });
  menu.addAction("Crash " + tm + " for good", this, [=] {
    act("crash " + tm + " for good", CrashTaskManagerFault(node, std::nullopt));
  });
  menu.addAction("Fail task " + task, this,
                 [=] { act("fail " + task, FailTaskFault(task.toStdString())); });
  // The network around it: cut the TaskManager off from every other node for a while, or slow
  // its link to the JobManager (the barriers' triggers and the acknowledgements travel there).
  const Recording& rec = *recording();
  std::vector<uint32_t> others{rec.job_manager_node};
  for (uint32_t n : rec.task_manager_nodes) {
    if (n != node) others.push_back(n);
  }
  menu.addAction("Partition " + tm + " from the other nodes (heals after 2 s)", this, [=] {
    act("partition " + tm, PartitionFault({node}, others, Duration::Seconds(2)));
  });
  menu.addAction("Slow the link " + tm + " - JobManager by 300 ms for 5 s", this, [=] {
    act("slow " + tm + " - JobManager",
        SlowLinkFault(node, rec.job_manager_node, Duration::Millis(300), Duration::Seconds(5)));
  });
  menu.addSeparator();
  menu.addAction("Crash the JobManager (restarts after 1 s)", this,
                 [=] { act("crash the JobManager", CrashJobManagerFault(Duration::Seconds(1))); });
  menu.addAction("Blob store outage for 2 s", this,
                 [=] { act("blob store outage", BlobOutageFault(Duration::Seconds(2))); });
  menu.exec(global);
}

void MainWindow::ChannelMenu(const QString& from, uint32_t from_node, const QString& to,
                             uint32_t to_node, const QPoint& global) {
  if (session_ == nullptr) return;
  QMenu menu(this);
  const QString link = "node " + QString::number(from_node) + " - node " + QString::number(to_node);
  if (from_node == to_node) {
    menu.addAction(from + " and " + to + " run on node " + QString::number(from_node) +
                   ": no network link between them")
        ->setEnabled(false);
  } else {
    const auto act = [this](const QString& text, scenarios::proto::Fault fault) {
      if (Status s = BranchHere(std::move(fault), text); !s.ok()) {
        QMessageBox::warning(this, "faultline-gui", Q(s.ToString()));
      }
    };
    menu.addAction("Slow the link " + link + " by 200 ms for 2 s", this, [=] {
      act("slow " + link,
          SlowLinkFault(from_node, to_node, Duration::Millis(200), Duration::Seconds(2)));
    });
    menu.addAction("Partition " + link + " (heals after 2 s)", this, [=] {
      act("partition " + link, PartitionFault({from_node}, {to_node}, Duration::Seconds(2)));
    });
  }
  menu.exec(global);
}

QString MainWindow::Reproducer() const {
  return session_ == nullptr ? QString() : Q(session_->Reproducer(current_));
}

bool MainWindow::playing() const {
  return player_->isActive();
}

double MainWindow::speed() const {
  return std::pow(10.0, speed_->value() / 10.0);
}

void MainWindow::Play() {
  if (session_ == nullptr) return;
  player_->start();
  play_->setText("Pause");
}

void MainWindow::Pause() {
  player_->stop();
  play_->setText("Play");
}

void MainWindow::Advance() {
  Timeline* timeline = mutable_timeline();
  if (timeline == nullptr || timeline->state().applied >= timeline->size()) {
    Pause();
    return;
  }
  const auto step = static_cast<int64_t>(speed() * kTickMillis * 1e6);
  timeline->SeekTime(timeline->state().now + Duration::Nanos(std::max<int64_t>(1, step)));
  Refresh();
}

void MainWindow::StepRecord() {
  if (session_ == nullptr) return;
  mutable_timeline()->Step();
  Refresh();
}

bool MainWindow::NextBarrier() {
  if (session_ == nullptr || !mutable_timeline()->StepUntil(IsBarrierEvent)) return false;
  Refresh();
  return true;
}

bool MainWindow::NextCheckpointEnd() {
  if (session_ == nullptr || !mutable_timeline()->StepUntil(IsCheckpointEnd)) return false;
  Refresh();
  return true;
}

bool MainWindow::NextFault() {
  if (session_ == nullptr || !mutable_timeline()->StepUntil(IsFault)) return false;
  Refresh();
  return true;
}

bool MainWindow::NextViolation() {
  if (session_ == nullptr) return false;
  const size_t now = timeline()->state().applied;
  std::optional<size_t> next;
  for (size_t i = 0; i < violations_.size(); ++i) {
    if (violations_[i].record > now &&
        (!next || violations_[i].record < violations_[*next].record)) {
      next = i;
    }
  }
  return next && JumpToViolation(*next);
}

bool MainWindow::JumpToViolation(size_t index) {
  if (session_ == nullptr || index >= violations_.size()) return false;
  Pause();
  mutable_timeline()->SeekRecord(violations_[index].record);
  Refresh();
  statusBar()->showMessage(Q(violations_[index].text));
  return true;
}

void MainWindow::SeekTime(Time t) {
  if (session_ == nullptr) return;
  mutable_timeline()->SeekTime(t);
  Refresh();
}

void MainWindow::CopyReproducer() {
  if (session_ == nullptr) return;
  QApplication::clipboard()->setText(Reproducer());
  statusBar()->showMessage("copied: " + Q(session_->ReproduceCommand(current_)), 5000);
}

void MainWindow::OpenDialog() {
  const QString path = QFileDialog::getOpenFileName(this, "Open a scenario", QString(),
                                                    "Scenarios (*.textproto);;All files (*)");
  if (path.isEmpty()) return;
  if (Status s = Open(path, std::nullopt); !s.ok()) {
    QMessageBox::warning(this, "faultline-gui", Q(s.ToString()));
  }
}

Status MainWindow::StartLesson(const QString& id) {
  const Lesson* lesson = FindLesson(id.toStdString());
  if (lesson == nullptr) return NotFoundError("no lesson named " + id.toStdString());
  // The scenario library of the source tree; next to the executable's build tree otherwise.
  QString path = QString(FAULTLINE_SCENARIO_LIBRARY_DIR) + "/" + Q(lesson->scenario);
  if (!QFileInfo::exists(path)) {
    path = QApplication::applicationDirPath() + "/../../scenarios/library/" + Q(lesson->scenario);
  }
  FL_RETURN_IF_ERROR(Open(path, lesson->seed));
  lesson_ = lesson;
  lesson_step_ = 0;
  ShowLessonStep();
  lesson_dock_->show();
  resizeDocks({lesson_dock_}, {340}, Qt::Horizontal);
  return Status::Ok();
}

bool MainWindow::NextLessonStep() {
  if (lesson_ == nullptr || session_ == nullptr || lesson_step_ + 1 >= lesson_->steps.size()) {
    return false;
  }
  Pause();
  const LessonStep& step = lesson_->steps[lesson_step_ + 1];
  if (!mutable_timeline()->StepUntil(
          [&step](const sim::TraceRecord& r) { return StepMatches(step, r); })) {
    lesson_progress_->setText("This run has no further " + Q(step.event) +
                              " event: the lesson cannot go on from here.");
    return false;
  }
  ++lesson_step_;
  Refresh();
  ShowLessonStep();
  return true;
}

void MainWindow::EndLesson() {
  lesson_ = nullptr;
  lesson_step_ = 0;
  lesson_dock_->hide();
}

QString MainWindow::narration() const {
  return lesson_ == nullptr ? QString() : Q(lesson_->steps[lesson_step_].narration);
}

void MainWindow::ShowLessonStep() {
  if (lesson_ == nullptr) return;
  const LessonStep& step = lesson_->steps[lesson_step_];
  lesson_title_->setText(Q(lesson_->title));
  lesson_text_->setText(Q(step.narration));
  const bool last = lesson_step_ + 1 >= lesson_->steps.size();
  lesson_progress_->setText("Step " + QString::number(lesson_step_ + 1) + " of " +
                            QString::number(lesson_->steps.size()) + ", at " +
                            Seconds(timeline()->state().now) +
                            (last ? ". The end of the lesson: play on, or explore." : ""));
  lesson_next_->setEnabled(!last);
  if (!step.tab.empty()) ShowTab(Q(step.tab));
}

Status MainWindow::CheckSoFar() {
  if (session_ == nullptr) return FailedPreconditionError("no run open");
  Pause();
  const Time now = timeline()->state().now;
  FL_ASSIGN_OR_RETURN(Recording prefix, session_->CheckPrefix(current_, now));
  prefix_verdicts_->clear();
  prefix_verdicts_->setHeaderLabels({"Checker", "Verdict up to " + Seconds(now)});
  for (const checkers::Verdict& v : prefix.report.verdicts) AddVerdict(prefix_verdicts_, v);
  prefix_verdicts_->resizeColumnToContents(0);
  prefix_report_ = std::make_unique<scenarios::RunReport>(std::move(prefix.report));
  ShowTab("Verdicts");
  return Status::Ok();
}

Status MainWindow::CompareWithBranch(int id) {
  if (session_ == nullptr) return FailedPreconditionError("no run open");
  if (id < 0 || id >= session_->size()) {
    return InvalidArgumentError("no branch " + std::to_string(id));
  }
  StartComparing(session_->branch(id).recording.get(), "branch " + QString::number(id));
  return Status::Ok();
}

Status MainWindow::CompareWithSeed(uint64_t seed) {
  if (session_ == nullptr) return FailedPreconditionError("no run open");
  FL_ASSIGN_OR_RETURN(std::unique_ptr<Session> other,
                      Session::Open(session_->path(), seed, session_->branch(0).switches));
  StopComparing();
  other_session_ = std::move(other);
  StartComparing(other_session_->branch(0).recording.get(), "seed " + QString::number(seed));
  return Status::Ok();
}

void MainWindow::StartComparing(const Recording* other, QString what) {
  other_ = other;
  compared_ = std::move(what);
  other_timeline_ = std::make_unique<Timeline>(*other_);
  divergence_ = FirstDivergence(*recording(), *other_);
  RefreshComparison();
  ShowTab("Compare");
}

void MainWindow::StopComparing() {
  other_ = nullptr;
  other_timeline_.reset();
  other_session_.reset();
  divergence_.reset();
  if (differences_ != nullptr) differences_->setRowCount(0);
  if (compare_summary_ != nullptr) {
    compare_summary_->setText("Compare this run with another branch, or with another seed.");
  }
}

bool MainWindow::GoToDivergence() {
  if (session_ == nullptr || !divergence_) return false;
  Pause();
  // Just after the first record that differs: both runs show their own version of it.
  mutable_timeline()->SeekRecord(divergence_->record + 1);
  Refresh();
  return true;
}

void MainWindow::RefreshComparison() {
  if (other_ == nullptr || other_timeline_ == nullptr) return;
  const RunState& here = timeline()->state();
  other_timeline_->SeekTime(here.now);
  QString summary = "Branch " + QString::number(current_) + " against " + compared_ + ": ";
  if (!divergence_) {
    summary += "the same run, record for record (" + QString::number(recording()->records.size()) +
               " records).";
  } else {
    summary +=
        "they part at record " + QString::number(divergence_->record) + ", " +
        Seconds(divergence_->at) + ".\nHere:  " +
        (divergence_->here.empty() ? QString("(the run has ended)") : Q(divergence_->here)) +
        "\nThere: " +
        (divergence_->there.empty() ? QString("(the run has ended)") : Q(divergence_->there));
  }
  compare_summary_->setText(summary);
  const std::vector<StateDifference> diff = CompareStates(here, other_timeline_->state());
  differences_->setRowCount(static_cast<int>(diff.size()));
  for (size_t i = 0; i < diff.size(); ++i) {
    const int r = static_cast<int>(i);
    differences_->setItem(r, 0, new QTableWidgetItem(Q(diff[i].what)));
    differences_->setItem(r, 1, new QTableWidgetItem(Q(diff[i].here)));
    differences_->setItem(r, 2, new QTableWidgetItem(Q(diff[i].there)));
  }
  differences_->resizeColumnsToContents();
}

void MainWindow::InspectTask(const QString& name) {
  inspected_ = name;
  dataflow_->SetSelected(name);
  RefreshInspector();
  ShowTab("Inspector");
}

void MainWindow::RefreshInspector() {
  if (inspected_.isEmpty() || session_ == nullptr) return;
  inspection_ =
      Inspect(*recording(), timeline()->state(), dataflow_->frame(), inspected_.toStdString());
  const TaskInspection& in = inspection_;
  inspector_->clear();
  inspector_->setHeaderLabels({Q(in.name), Seconds(timeline()->state().now)});
  if (!in.found) {
    new QTreeWidgetItem(inspector_, {"not running", "no such subtask in the plan running now"});
    return;
  }
  const auto row = [](QTreeWidgetItem* parent, const QString& a, const QString& b) {
    return new QTreeWidgetItem(parent, {a, b});
  };
  auto* task = new QTreeWidgetItem(inspector_, {"subtask", Q(in.name)});
  row(task, "node", "TaskManager " + QString::number(in.node));
  row(task, "attempt", QString::number(in.attempt));
  row(task, "phase",
      Q(TaskPhaseName(in.phase)) + " since " + Seconds(in.since) +
          (in.backpressured ? ", back-pressured" : ""));
  if (in.aligning != 0) row(task, "aligning", "checkpoint " + QString::number(in.aligning));
  row(task, "state",
      in.last_snapshot == 0
          ? QString("no snapshot yet")
          : QString::number(in.state_entries) + " keyed entries, " +
                QString::number(in.state_bytes) + " bytes uploaded, at checkpoint " +
                QString::number(in.last_snapshot));
  if (!in.key_groups.empty()) row(task, "keyed state", Q(in.key_groups));
  const auto channel_text = [](const ChannelInspection& c, bool input) {
    QString text = QString::number(c.queued_buffers) + " buffers (" +
                   QString::number(c.queued_records) + " records) queued, " +
                   QString::number(c.wire_buffers) + " (" + QString::number(c.wire_records) +
                   ") on the wire";
    if (input && c.barrier_seen) text += c.blocked ? "; barrier in, blocked" : "; barrier in";
    return text;
  };
  auto* inputs = new QTreeWidgetItem(inspector_, {"inputs", QString::number(in.inputs.size())});
  for (const ChannelInspection& c : in.inputs) {
    row(inputs, QString::number(c.index) + " from " + Q(c.peer), channel_text(c, true));
  }
  auto* outputs = new QTreeWidgetItem(inspector_, {"outputs", QString::number(in.outputs.size())});
  for (const ChannelInspection& c : in.outputs) {
    row(outputs, QString::number(c.index) + " to " + Q(c.peer), channel_text(c, false));
  }
  inspector_->expandAll();
  inspector_->resizeColumnToContents(0);
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
  if (session_ == nullptr) return;
  auto row = timeline()->state().checkpoints.find(id);
  if (row == timeline()->state().checkpoints.end()) return;
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
  const RunState& state = timeline()->state();
  dataflow_->SetState(state);
  checkpoints_->SetState(state);
  space_time_->SetNow(state.now);
  ShowCheckpoint(shown_checkpoint_);
  // The moments up to now, appended while moving forward, rebuilt after a move back.
  const std::vector<Moment>& all = timeline()->moments();
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
  RefreshComparison();
  RefreshInspector();
}

}  // namespace faultline::gui
